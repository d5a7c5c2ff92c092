"""JupyterLab in Debian's Chromium: a notebook logs a run, the run shows up in the
Workbench panel, its page draws the metrics. Screenshots go to test-artifacts/."""

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.live_server import LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"),
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# No downloaded browser and no network: Chromium must not phone home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

NOTEBOOK = {
    "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": (
        "import workbench as wb\n"
        "wb.set_experiment('browser-demo')\n"
        "with wb.start_run(name='from-browser', tags={'team': 'growth'}) as run:\n"
        "    wb.log_params({'lr': 0.1, 'depth': 4})\n"
        "    for step in range(30):\n"
        "        wb.log_metrics({'loss': 1 / (step + 1), 'auc': 0.5 + step / 70}, step=step)\n"
        "    wb.log_text('hello from the notebook', 'notes.txt')\n"
        "print('logged', run.id)\n")}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture
def lab(tmp_path, db_url):
    root = tmp_path / "notebooks"
    root.mkdir()
    (root / "track.ipynb").write_text(json.dumps(NOTEBOOK))
    server = LiveServer(tmp_path / "lab-home", db_url, app="lab", root_dir=root)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def page(request):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
        if getattr(request.node, "failed", False):  # what the browser showed when the test failed
            page.screenshot(path=str(SHOTS / f"FAILED-{request.node.name}.png"))
        browser.close()


def test_a_notebook_run_appears_in_the_panel(lab, page):
    page.goto(f"{lab.url}lab/tree/track.ipynb?token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    # Run only once the notebook's kernel is connected and idle: earlier, JupyterLab drops the request.
    page.wait_for_function(
        "(() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return !!k && w.sessionContext.isReady && k.connectionStatus === 'connected' && k.status === 'idle'; })()",
        timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")  # as Run > Run All Cells
    page.wait_for_selector(".jp-OutputArea-output:has-text('logged')", timeout=90_000)

    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='workbench-sidebar']").click()
    sidebar = page.locator("[data-testid='wb-sidebar']")
    sidebar.wait_for()
    experiment = sidebar.locator("[data-testid='wb-experiment'][data-name='browser-demo']")
    experiment.wait_for()
    experiment.click()

    table = page.locator("[data-testid='wb-runs-table']")
    row = table.locator("[data-testid='wb-run-row']", has_text="from-browser")
    row.wait_for()
    assert "FINISHED" in (row.inner_text() + (row.get_attribute("title") or "") + row.inner_html()).upper()
    page.screenshot(path=str(SHOTS / "runs-table.png"))

    row.click()
    run_page = page.locator("[data-testid='wb-run-page']")
    run_page.wait_for()
    run_page.locator("[data-testid='wb-metric-chart'] canvas").first.wait_for()
    assert "lr" in run_page.inner_text() and "growth" in run_page.inner_text()
    artifact = run_page.locator("[data-testid='wb-artifact']", has_text="notes.txt")
    artifact.click()
    run_page.get_by_text("hello from the notebook").wait_for()
    page.screenshot(path=str(SHOTS / "run-page.png"))


def test_filter_errors_show_in_the_panel(lab, page, db_url):
    from workbench import models
    from workbench.store.engine import open_store
    from workbench.tenancy import Tenancy
    from workbench.tracking.service import Tracking

    store = open_store(db_url)
    alice = Tenancy(store).ensure_user("alice")
    tracking = Tracking(store)
    exp = tracking.create_experiment(alice, "filters")
    for i in range(60):
        run = tracking.create_run(alice, models.RunCreate(experiment_id=exp.id, name=f"r{i:02d}"))
        tracking.log_batch(alice, run.id, models.LogBatch(metrics=[models.MetricPoint(key="auc", value=i / 60, step=0,
                                                                                      timestamp=1)]))
        tracking.update_run(alice, run.id, models.RunUpdate(status=models.RunStatus.FINISHED))
    page.goto(f"{lab.url}lab?token={lab.token}")
    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='workbench-sidebar']").click()
    page.locator("[data-testid='wb-experiment'][data-name='filters']").click()
    table = page.locator("[data-testid='wb-runs-table']")
    table.locator("[data-testid='wb-run-row']").first.wait_for()
    assert table.locator("[data-testid='wb-run-row']").count() == 50  # one page
    assert "60" in page.locator("[data-testid='wb-pager']").inner_text()

    box = page.locator("[data-testid='wb-filter']")
    box.fill("metrics.auc >")
    box.press("Enter")
    error = page.locator("[data-testid='wb-filter-error']")
    error.wait_for()
    assert "Malformed filter" in error.inner_text()
    box.fill("metrics.auc > 0.9")
    box.press("Enter")
    page.wait_for_function(
        "document.querySelectorAll(\"[data-testid='wb-run-row']\").length === 5")
    page.screenshot(path=str(SHOTS / "runs-filtered.png"))
