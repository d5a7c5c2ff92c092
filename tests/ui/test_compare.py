"""The Compare view, reports and share links in Debian's Chromium: tick 20 runs in the runs
table, compare them (curves, parallel coordinates, scatter, diff table), save the view as a
report, share it, open the link logged out in a fresh browser, revoke it from the sidebar.
Screenshots go to test-artifacts/ (compare-20-runs.png, shared-report.png)."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.live_server import LiveServer
from tests.ui.test_browser import SHOTS
from tests.ui.test_browser import pytestmark as browser_marks
from workbench import models
from workbench.store.engine import open_store
from workbench.tenancy import Tenancy
from workbench.tracking.service import Tracking

pytestmark = browser_marks

N_RUNS = 20
TITLE = "LR sweep, 20 runs"
NOTES = "The **best** run used `lr = 0.01`.\n\n- deeper trees overfit\n- next: try more data"


def _log_runs(db_url: str, experiment: str) -> list[models.Run]:
    """20 finished runs of alice's: params, tags, and 15-step loss and auc curves."""
    store = open_store(db_url)
    alice = Tenancy(store).ensure_user("alice")
    tracking = Tracking(store)
    exp = tracking.create_experiment(alice, experiment)
    runs = []
    for i in range(N_RUNS):
        lr, depth = [0.001, 0.01, 0.1, 0.3][i % 4], 2 + i % 5
        run = tracking.create_run(alice, models.RunCreate(experiment_id=exp.id, name=f"sweep-{i:02d}",
                                                          tags={"team": "growth", "arm": "ab"[i % 2]}))
        points = []
        for step in range(15):
            points.append(models.MetricPoint(key="loss", value=(1 + i / 10) / (step + 1 + lr * 10), step=step,
                                             timestamp=1_700_000_000_000 + step * 1000))
            points.append(models.MetricPoint(key="auc", value=0.5 + 0.4 * step / 14 * (1 - depth / 20),
                                             step=step, timestamp=1_700_000_000_000 + step * 1000))
        tracking.log_batch(alice, run.id, models.LogBatch(
            metrics=points, params=[models.Param(key="lr", value=str(lr)), models.Param(key="depth", value=str(depth))]))
        tracking.update_run(alice, run.id, models.RunUpdate(status=models.RunStatus.FINISHED))
        runs.append(tracking.get_run(alice, run.id))
    return runs


@pytest.fixture
def lab(tmp_path, db_url):
    server = LiveServer(tmp_path / "lab-home", db_url, app="lab", root_dir=tmp_path / "notebooks")
    server.start()
    yield server
    server.stop()


def _new_page(browser, pages, **context_args):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, **context_args)
    page = context.new_page()
    page.set_default_timeout(60_000)
    pages.append(page)
    return page


def _open_lab(browser, pages, lab: LiveServer):
    page = _new_page(browser, pages, accept_downloads=True)
    page.goto(f"{lab.url}lab?token={lab.token}")
    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='workbench-sidebar']").click()
    page.locator("[data-testid='wb-sidebar']").wait_for()
    return page


# The diff table's grid as BokehJS built it: how many rows it holds and their run names
# (SlickGrid draws only the rows in sight, so the DOM alone cannot say).
DIFF_TABLE_ROWS = """
() => {
  const found = [];
  const visit = view => {
    if (view.model && view.model.type === 'DataTable' && view.grid
        && view.model.columns.some(c => c.field === 'name' && c.title === 'run')) {
      found.push(view);
    }
    for (const child of (view.child_views ?? [])) visit(child);
  };
  for (const root of window.Bokeh.index) visit(root);
  if (found.length === 0) return null;
  const grid = found[0].grid, names = [];
  for (let i = 0; i < grid.getDataLength(); i++) names.push(grid.getDataItem(i).name);
  return names;
}
"""


def _chart(page):
    view = page.locator("[data-testid='wb-compare-view'][data-state='ready']")
    view.wait_for(timeout=90_000)
    chart = view.locator("[data-testid='wb-compare-chart'][data-drawn='true']")
    chart.wait_for(timeout=90_000)
    return view, chart


def _show_tab(chart, title: str):
    # Bokeh draws into shadow roots; Playwright's CSS locators reach inside them.
    chart.locator(".bk-tab", has_text=title).first.click()


def test_compare_twenty_runs_and_save_as_report(lab, browser, db_url):
    browser, pages = browser
    runs = _log_runs(db_url, "lr-sweep")
    page = _open_lab(browser, pages, lab)
    page.locator("[data-testid='wb-experiment'][data-name='lr-sweep']").click()
    table = page.locator("[data-testid='wb-runs-table']")
    rows = table.locator("[data-testid='wb-run-row']")
    rows.first.wait_for()
    assert rows.count() == N_RUNS

    compare = page.locator("[data-testid='wb-compare-button']")
    expect(compare).to_be_disabled()  # nothing ticked yet
    # Ticking a box selects the run and does not open it.
    table.locator("[data-testid='wb-run-select']").first.check()
    expect(compare).to_have_text("Compare (1)")
    expect(compare).to_be_enabled()
    assert page.locator("[data-testid='wb-run-page']").count() == 0
    # The header box ticks the whole page; the selection survives sorting and filtering
    # (new rows from the server, as paging brings).
    page.locator("[data-testid='wb-select-page']").check()
    expect(compare).to_have_text(f"Compare ({N_RUNS})")
    table.locator("th[data-column='attributes.run_name']").click()
    expect(rows.first).to_contain_text("sweep-00")
    expect(table.locator("[data-testid='wb-run-select']:checked")).to_have_count(N_RUNS)
    box = page.locator("[data-testid='wb-filter']")
    box.fill("params.lr = '0.1'")
    box.press("Enter")
    expect(rows).to_have_count(N_RUNS // 4)
    expect(table.locator("[data-testid='wb-run-select']:checked")).to_have_count(N_RUNS // 4)
    box.fill("")
    box.press("Enter")
    expect(rows).to_have_count(N_RUNS)
    expect(table.locator("[data-testid='wb-run-select']:checked")).to_have_count(N_RUNS)
    expect(compare).to_have_text(f"Compare ({N_RUNS})")
    expect(page.locator("[data-testid='wb-selection-count']")).to_have_text(f"{N_RUNS} selected")

    compare.click()
    view, chart = _chart(page)
    assert view.get_attribute("data-run-count") == str(N_RUNS)
    # Curves, parallel coordinates and scatter draw on canvases; the diff table is a grid of all 20 runs.
    for tab in ("Curves", "Parallel coordinates", "Scatter"):
        _show_tab(chart, tab)
        chart.locator("canvas:visible").first.wait_for()
    _show_tab(chart, "Table")
    chart.locator(".slick-row:visible").first.wait_for()
    names = page.evaluate(DIFF_TABLE_ROWS)
    assert sorted(names) == sorted(r.info.name for r in runs)
    _show_tab(chart, "Curves")

    # Save as report: title and Markdown notes; the view becomes that report.
    page.locator("[data-testid='wb-compare-save']").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("[data-testid='wb-report-title-input']").fill(TITLE)
    dialog.locator("[data-testid='wb-report-notes-input']").fill(NOTES)
    dialog.locator("button.jp-mod-accept").click()
    page.locator("[data-testid='wb-report-title']", has_text=TITLE).wait_for()
    notes = page.locator("[data-testid='wb-report-notes']")
    notes.locator("strong", has_text="best").wait_for()  # Markdown rendered, not shown raw
    assert "deeper trees overfit" in notes.inner_text() and "**" not in notes.inner_text()
    report_id = view.get_attribute("data-report-id")
    assert report_id
    expect(page.locator("[data-testid='wb-compare-save']")).to_be_disabled()
    page.locator(f"[data-testid='wb-report'][data-id='{report_id}']", has_text=TITLE).wait_for()
    page.screenshot(path=str(SHOTS / "compare-20-runs.png"))

    saved = requests.get(f"{lab.api}/reports/{report_id}", headers=lab.headers(), timeout=30).json()
    assert saved["title"] == TITLE and saved["notes"] == NOTES
    assert saved["run_ids"] and sorted(saved["run_ids"]) == sorted(r.info.run_id for r in runs)

    # Notes are editable in place (PATCH).
    page.locator("[data-testid='wb-report-edit']").click()
    page.locator("[data-testid='wb-report-notes-input']").fill(NOTES + "\n\nChecked by *bob*.")
    page.locator("[data-testid='wb-report-save-edits']").click()
    notes.locator("em", has_text="bob").wait_for()
    saved = requests.get(f"{lab.api}/reports/{report_id}", headers=lab.headers(), timeout=30).json()
    assert saved["notes"].endswith("Checked by *bob*.")

    # Export HTML downloads the standalone page.
    with page.expect_download() as download:
        page.locator("[data-testid='wb-compare-export']").click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".html")
    html = path.read_text(encoding="utf-8")
    assert TITLE in html and "<html" in html.lower()

    # The server's 4xx message shows inline: a run that does not exist.
    gone = "0" * 32
    page.evaluate("ids => { void window.jupyterapp.commands.execute('workbench:compare-runs', {runIds: ids}); }",
                  [gone])
    error = page.locator("[data-testid='wb-compare-view'][data-state='failed'] [data-testid='wb-compare-error']")
    error.wait_for()
    assert f"No run with id '{gone}'" in error.inner_text()


def test_share_link_opens_logged_out_until_revoked(lab, browser, db_url):
    browser, pages = browser
    runs = _log_runs(db_url, "shared-sweep")
    made = requests.post(f"{lab.api}/reports", headers=lab.headers(), timeout=30,
                         json={"title": TITLE, "notes": NOTES, "run_ids": [r.info.run_id for r in runs]})
    assert made.status_code == 201, made.text
    report_id = made.json()["id"]

    page = _open_lab(browser, pages, lab)
    # Open the saved report from the sidebar: its title, notes and charts.
    page.locator(f"[data-testid='wb-report'][data-id='{report_id}']").click()
    view, chart = _chart(page)
    assert view.get_attribute("data-report-id") == report_id
    page.locator("[data-testid='wb-report-title']", has_text=TITLE).wait_for()
    page.locator("[data-testid='wb-report-notes'] strong", has_text="best").wait_for()
    chart.locator("canvas:visible").first.wait_for()

    # Share: pick the expiry, read the link from the dialog.
    page.locator("[data-testid='wb-compare-share']").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("[data-testid='wb-share-expiry']").select_option("1d")
    dialog.locator("button.jp-mod-accept").click()
    url_box = page.locator(".jp-Dialog [data-testid='wb-share-url']")
    url_box.wait_for()
    url = url_box.input_value()
    assert "/workbench/share/" in url and url.startswith(lab.url.split("/a%40b/")[0])
    page.locator(".jp-Dialog [data-testid='wb-share-copy']").click()
    page.locator(".jp-Dialog button.jp-mod-accept").click()

    # A fresh browser context: no cookies, no token. The report renders; no login page.
    stranger = _new_page(browser, pages)
    response = stranger.goto(url)
    assert response.status == 200
    stranger.get_by_text(TITLE).first.wait_for()
    stranger.locator("canvas:visible").first.wait_for(timeout=90_000)  # inside Bokeh's shadow roots
    assert "/login" not in stranger.url
    assert stranger.locator("#login_submit, input[type='password']").count() == 0
    stranger.screenshot(path=str(SHOTS / "shared-report.png"))

    # The sidebar lists the link with its view; revoking it (after a confirm) ends it.
    page.locator("[data-testid='wb-refresh-experiments']").click()
    link = page.locator("[data-testid='wb-share-link']", has_text=TITLE)
    link.wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll(\"[data-testid='wb-share-link']\")]"
        ".some(e => /\\b1 view\\b/.test(e.innerText))")
    link.locator("[data-testid='wb-share-revoke']").click()
    page.locator(".jp-Dialog button.jp-mod-warn").click()
    page.locator("[data-testid='wb-share-link'][data-state='revoked']", has_text=TITLE).wait_for()
    assert link.locator("[data-testid='wb-share-revoke']").count() == 0

    response = stranger.reload()
    assert response.status == 404
    assert TITLE not in stranger.content()
