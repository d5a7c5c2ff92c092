"""Reports and share links through a real server: a link opens with no login at all (single-
and multi-user), shows that report's runs and nothing else, and every bad token is the same 404."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse

import pytest
import requests

from tests.live_server import LiveServer
from tests.server.conftest import call
from workbench.clock import now_ms
from workbench.store.engine import open_store
from workbench.store.tables import ShareLinkRow
from workbench.tenancy import Tenancy
from workbench.tenancy.sharing import ShareLinks, token_of


def log_run(api, name: str, auc: float, experiment: str = "shared-exp") -> str:
    exp = call(api, "POST", "/experiments", json={"name": experiment, "exist_ok": True}).json()
    run_id = call(api, "POST", "/runs", json={"experiment_id": exp["id"], "name": name}).json()["info"]["run_id"]
    batch = {"params": [{"key": "depth", "value": name[-1]}],
             "metrics": [{"key": "auc", "value": auc * s / 4, "step": s, "timestamp": 1000 + s} for s in range(5)]}
    assert call(api, "POST", f"/runs/{run_id}/log-batch", json=batch).status_code in (200, 204)
    return run_id


def share_report(api, run_ids, title="Churn sweep", expires_in="7d") -> tuple[dict, dict]:
    report = call(api, "POST", "/reports", json={"title": title, "notes": "**depth 3** wins", "run_ids": run_ids})
    assert report.status_code == 201, report.text
    link = call(api, "POST", "/shares", json={"report_id": report.json()["id"], "expires_in": expires_in})
    assert link.status_code == 201, link.text
    return report.json(), link.json()


def test_a_share_link_opens_logged_out_and_shows_only_its_report(api):
    shown = [log_run(api, f"shown-run-{i}", 0.8 + i / 100) for i in range(3)]
    log_run(api, "hidden-run-9", 0.99)  # same experiment, not in the report
    _, link = share_report(api, shown)
    assert link["url"].startswith("http://127.0.0.1:") and "/a%40b/workbench/share/" in link["url"]

    page = requests.get(link["url"], timeout=60)  # no token, no cookie
    assert page.status_code == 200, page.text[:500]
    assert "Churn sweep" in page.text and "<strong>depth 3</strong>" in page.text
    assert all(f"shown-run-{i}" in page.text for i in range(3))
    assert "hidden-run" not in page.text and api.user not in page.text.split("Shared by")[0]
    assert page.headers["Referrer-Policy"] == "no-referrer" and "noindex" in page.headers["X-Robots-Tag"]
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "Set-Cookie" not in page.headers
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src  # only the page's own inline script, by its hash
    inline = re.findall(r"<script(?![^>]*\b(?:src|type)=)[^>]*>(.*?)</script>", page.text, re.DOTALL)
    assert inline and all("'sha256-" + base64.b64encode(hashlib.sha256(js.encode()).digest()).decode() + "'"
                          in script_src for js in inline)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page.text)
    assert scripts and all(s.startswith("/a%40b/workbench/static/bokeh/") for s in scripts)
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(link["url"]))
    assert requests.get(origin + scripts[0], timeout=30).status_code == 200  # BokehJS needs no login either

    [listed] = [s for s in call(api, "GET", "/shares").json()["shares"] if s["id"] == link["id"]]
    assert (listed["views"], listed["url"], listed["report_title"]) == (1, link["url"], "Churn sweep")

    not_found = requests.get(link["url"][:-3] + "abc", timeout=30)
    assert call(api, "DELETE", f"/shares/{link['id']}").status_code == 204
    revoked = requests.get(link["url"], timeout=30)
    assert revoked.status_code == not_found.status_code == 404
    assert revoked.text == not_found.text and "Churn" not in revoked.text  # the same answer, no detail


def test_every_bad_link_gets_the_same_404(api, http_user):
    """Tampered, expired, another report's, revoked, deleted report: one answer, and no view logged."""
    server, _, _ = http_user
    store = open_store(server.db_url)
    signer = ShareLinks(store, secret_path=server.home / "share-secret")  # the server's own key
    run_id = log_run(api, "bad-links-1", 0.6)
    report, link = share_report(api, [run_id], title="Secret sweep")
    other, _ = share_report(api, [run_id], title="Other sweep")
    token = token_of(link["url"])
    payload, signature = token.split(".")
    assert requests.get(link["url"], timeout=60).status_code == 200  # the real link works

    expired, _ = share_report(api, [run_id], title="Expired sweep")
    expired_link = call(api, "POST", "/shares", json={"report_id": expired["id"], "expires_in": 60}).json()
    past = now_ms() - 1000
    with store.session() as s:  # a link that ran out: row and signature both say it is over
        s.get(ShareLinkRow, expired_link["id"]).expires_at = past
    base = link["url"][: -len(token)]
    bad = {
        "tampered signature": payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:],
        "tampered payload": payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature,
        "expired": signer.token(expired_link["id"], expired["id"], past),
        "other report": signer.token(link["id"], other["id"], link["expires_at"]),
        "unknown share": signer.token("shr_0000000000000000", report["id"], link["expires_at"]),
        "garbage": "x.y",
    }
    answers = {why: requests.get(base + t, timeout=30) for why, t in bad.items()}
    assert call(api, "DELETE", f"/reports/{report['id']}").status_code == 204
    answers["deleted report"] = requests.get(link["url"], timeout=30)
    first = answers["garbage"]
    for why, resp in answers.items():
        assert (resp.status_code, resp.text) == (404, first.text), why
        assert "Set-Cookie" not in resp.headers and "sweep" not in resp.text.lower(), why
    views = {s["id"]: s["views"] for s in call(api, "GET", "/shares").json()["shares"]}
    assert views[expired_link["id"]] == 0


def test_export_is_one_offline_file(api):
    report, _ = share_report(api, [log_run(api, "export-run-1", 0.7)], title="Export me / now")
    resp = call(api, "GET", f"/reports/{report['id']}/html")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("attachment")
    assert "Export-me-now.html" in resp.headers["Content-Disposition"]
    assert "export-run-1" in resp.text and not re.search(r"<script[^>]+src=", resp.text)


def test_bad_requests_and_other_peoples_reports(api, http_user, server_pool):
    run_id = log_run(api, "mine-1", 0.5)
    report, _ = share_report(api, [run_id])
    bad = call(api, "POST", "/shares", json={"report_id": report["id"], "expires_in": "forever"})
    assert bad.status_code == 400 and "'30m', '12h', '7d', '2w'" in bad.json()["message"]
    assert call(api, "POST", "/shares", json={"report_id": report["id"], "expires_in": "400d"}).status_code == 400
    assert call(api, "POST", "/reports", json={"title": "", "run_ids": [run_id]}).status_code == 400
    assert call(api, "POST", "/reports", json={"title": "x", "run_ids": []}).status_code == 400

    server, _, _ = http_user
    tenancy = Tenancy(open_store(server.db_url))
    other = requests.Session()
    other.headers["Authorization"] = "token " + tenancy.create_token(
        tenancy.create_user(f"other{api.user[-8:]}"), name="t").token
    other.base = server.api
    for method, path, body in (("GET", f"/reports/{report['id']}", None), ("DELETE", f"/reports/{report['id']}", None),
                               ("PATCH", f"/reports/{report['id']}", {"title": "mine now"}),
                               ("GET", f"/reports/{report['id']}/html", None),
                               ("POST", "/shares", {"report_id": report["id"]}),
                               ("POST", "/reports", {"title": "stolen", "run_ids": [run_id]})):
        resp = call(other, method, path, json=body)
        assert resp.status_code == 404, (method, path, resp.status_code)
        assert "mine-1" not in resp.text and "Churn" not in resp.text
    assert call(other, "GET", "/reports").json() == {"reports": []}
    assert call(other, "GET", "/shares").json() == {"shares": []}


@pytest.mark.docker  # a multi-user server runs its kernels in containers: it needs the engine to start
@pytest.mark.multi_user
def test_share_links_open_without_login_on_a_team_server(tmp_path, docker_runtime):
    db_url = f"sqlite:///{tmp_path / 'workbench.db'}"
    tenancy = Tenancy(open_store(db_url))
    token = tenancy.create_token(tenancy.create_user("carol", password="carol-password"), name="t").token
    with LiveServer(tmp_path / "home", db_url, multi_user=True, root_dir=tmp_path / "workspace") as server:
        carol = requests.Session()
        carol.headers["Authorization"] = f"token {token}"
        carol.base = server.api
        _, link = share_report(carol, [log_run(carol, "team-run-1", 0.9)], title="For the board")
        assert requests.get(server.url + "api/contents", timeout=30).status_code == 403  # logged out indeed
        page = requests.get(link["url"], timeout=60, allow_redirects=False)
        assert page.status_code == 200 and "For the board" in page.text and "team-run-1" in page.text
        assert 'name="password"' not in page.text and "Set-Cookie" not in page.headers
        assert call(carol, "DELETE", f"/shares/{link['id']}").status_code == 204
        gone = requests.get(link["url"], timeout=30, allow_redirects=False)
        assert gone.status_code == 404 and "For the board" not in gone.text


def test_a_report_whose_runs_are_all_gone_shows_nothing_and_counts_no_view(api):
    run_id = log_run(api, "gone-run-1", 0.5)
    _, link = share_report(api, [run_id], title="Vanished")
    assert call(api, "DELETE", f"/runs/{run_id}").status_code == 204
    gone = requests.get(link["url"], timeout=30)
    assert gone.status_code == 404 and "Vanished" not in gone.text
    [listed] = [s for s in call(api, "GET", "/shares").json()["shares"] if s["id"] == link["id"]]
    assert listed["views"] == 0
