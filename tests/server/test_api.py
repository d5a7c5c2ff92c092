"""The REST API over a real server: auth on every route, 4xx for bad input, and an
OpenAPI document that matches the handlers."""

import re

import jsonschema
import pytest
import requests
from workbench_server.app import api_routes

from tests.server.conftest import call
from workbench import models


def make_run(api, name="r"):
    exp = call(api, "POST", "/experiments", json={"name": "e", "exist_ok": True}).json()
    resp = call(api, "POST", "/runs", json={"experiment_id": exp["id"], "name": name})
    assert resp.status_code == 201, resp.text
    return resp.json()["info"]["run_id"]


def test_every_route_requires_authentication(http_user):
    server, _, _ = http_user
    doc = requests.get(server.api + "/openapi.json", headers=server.headers(), timeout=30).json()
    for path, item in doc["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for verb in item:
            resp = requests.request(verb, f"http://127.0.0.1:{server.port}{concrete}", timeout=30)
            assert resp.status_code in (401, 403), (verb, path, resp.status_code)
            assert "error" in resp.json()


def test_a_revoked_or_made_up_token_is_refused(http_user):
    server, _, _ = http_user
    for token in ("wb_madeup", "nonsense"):
        resp = requests.get(server.api + "/me", headers={"Authorization": f"token {token}"}, timeout=30)
        assert resp.status_code in (401, 403)


def test_token_identifies_its_user(api):
    assert call(api, "GET", "/me").json()["name"] == api.user


def test_run_lifecycle_over_rest(api):
    run_id = make_run(api, "lifecycle")
    batch = {"metrics": [{"key": "loss", "value": 0.5, "step": 0, "timestamp": 1},
                         {"key": "loss", "value": "NaN", "step": 1, "timestamp": 2}],
             "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "t", "value": "v"}]}
    assert call(api, "POST", f"/runs/{run_id}/log-batch", json=batch).status_code == 204
    run = call(api, "GET", f"/runs/{run_id}").json()
    assert run["data"]["metrics"]["loss"] == "NaN" and run["data"]["params"] == {"lr": "0.1"}
    hist = call(api, "GET", f"/runs/{run_id}/metric-history", params={"key": "loss"}).json()
    assert [p["step"] for p in hist["points"]] == [0, 1]
    done = call(api, "PATCH", f"/runs/{run_id}", json={"status": "FINISHED"}).json()
    assert done["status"] == "FINISHED" and done["end_time"]
    page = call(api, "POST", "/runs/search", json={"filter": "params.lr = '0.1'", "max_results": 10}).json()
    assert [r["info"]["run_id"] for r in page["runs"]] == [run_id] and page["total"] == 1
    assert call(api, "DELETE", f"/runs/{run_id}").status_code == 204
    assert call(api, "GET", f"/runs/{run_id}").status_code == 404


@pytest.mark.parametrize("method, path, body, status, words", [
    ("GET", "/runs/0123456789abcdef0123456789abcdef", None, 404, "No run"),
    ("GET", "/experiments/abc", None, 400, "integer"),
    ("GET", "/experiments/999999", None, 404, "No experiment"),
    ("POST", "/experiments", {"name": ""}, 400, "Invalid experiment name"),
    ("POST", "/experiments", {"name": 3}, 400, "name"),
    ("POST", "/experiments", b"{not json", 400, "Invalid ExperimentCreate"),
    ("POST", "/runs", {"experiment_id": "x"}, 400, "experiment_id"),
    ("POST", "/runs/search", {"filter": "metrics.auc >> 1"}, 400, "Malformed filter"),
    ("POST", "/runs/search", {"order_by": ["metrics.auc SIDEWAYS"]}, 400, "order_by"),
    ("POST", "/runs/search", {"max_results": 10**9}, 400, "max_results"),
])
def test_bad_input_gets_a_clear_4xx(api, method, path, body, status, words):
    kw = {"data": body} if isinstance(body, bytes) else ({"json": body} if body is not None else {})
    resp = call(api, method, path, **kw)
    assert resp.status_code == status, resp.text
    err = resp.json()
    assert set(err) == {"error", "message"} and words in err["message"]


def test_bad_log_batches_are_rejected_whole(api):
    run_id = make_run(api)
    bad = [
        {"metrics": [{"key": "x", "value": "high", "step": 0, "timestamp": 1}]},
        {"metrics": [{"key": "x", "value": 1, "step": 0.5, "timestamp": 1}]},
        {"metrics": [{"key": "x", "value": 1, "step": 0, "timestamp": 1}], "params": [{"key": "", "value": "1"}]},
        {"unknown": []},
    ]
    for body in bad:
        assert call(api, "POST", f"/runs/{run_id}/log-batch", json=body).status_code == 400
    assert call(api, "GET", f"/runs/{run_id}/metric-history", params={"key": "x"}).json()["points"] == []
    call(api, "POST", f"/runs/{run_id}/log-batch", json={"params": [{"key": "p", "value": "1"}]})
    resp = call(api, "POST", f"/runs/{run_id}/log-batch", json={"params": [{"key": "p", "value": "2"}]})
    assert resp.status_code == 409 and resp.json()["error"] == "conflict"


def test_artifacts_upload_download_and_are_never_sniffed(api):
    run_id = make_run(api)
    resp = call(api, "PUT", f"/runs/{run_id}/artifacts/plots/a%20b.html", data=b"<script>alert(1)</script>")
    assert resp.status_code == 201 and resp.json()["path"] == "plots/a b.html"
    got = call(api, "GET", f"/runs/{run_id}/artifacts/plots/a%20b.html")
    assert got.content == b"<script>alert(1)</script>"
    assert got.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in got.headers["Content-Security-Policy"]
    dl = call(api, "GET", f"/runs/{run_id}/artifacts/plots/a%20b.html", params={"download": "1"})
    assert dl.headers["Content-Disposition"].startswith("attachment")
    listing = call(api, "GET", f"/runs/{run_id}/artifacts").json()
    assert listing == {"artifacts": [{"path": "plots/a b.html", "size": 25, "is_dir": False, "media_type": "text/html"}]}
    assert call(api, "PUT", f"/runs/{run_id}/artifacts/..%2Fescape", data=b"x").status_code == 400
    assert call(api, "GET", f"/runs/{run_id}/artifacts/nothing.txt").status_code == 404


def test_metrics_chart_is_a_bokeh_item(api):
    run_id = make_run(api)
    call(api, "POST", f"/runs/{run_id}/log-batch",
         json={"metrics": [{"key": "loss", "value": 1 / (i + 1), "step": i, "timestamp": i} for i in range(50)]})
    item = call(api, "GET", f"/runs/{run_id}/charts/metrics", params={"key": "loss"}).json()
    assert {"doc", "root_id", "target_id"} <= set(item) and item["doc"]["roots"]


def test_openapi_matches_the_handlers_and_the_replies(api):
    doc = call(api, "GET", "/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    paths = {re.sub(r"^.*?/workbench/api/v1", "", p) for p in doc["paths"]}
    expected = {re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern) for pattern, _ in api_routes()}
    assert paths == expected
    for pattern, handler in api_routes():
        for verb in handler.ops:
            assert callable(getattr(handler, verb)), (pattern, verb)
    # Replies validate against the documented schemas.
    run_id = make_run(api)
    schemas = doc["components"]["schemas"]
    resolver_doc = {"components": {"schemas": schemas}}
    for path, model in ((f"/runs/{run_id}", "Run"), ("/experiments", "ExperimentList"), ("/me", "User")):
        schema = {**schemas[model], "components": resolver_doc["components"]}
        jsonschema.validate(call(api, "GET", path).json(), schema)
    assert models.Run.model_validate(call(api, "GET", f"/runs/{run_id}").json()).id == run_id


def test_one_user_cannot_reach_anothers_runs(http_user, server_pool, db_url):
    from workbench.store.engine import open_store
    from workbench.tenancy import Tenancy

    server, _, token_a = http_user
    a = requests.Session()
    a.headers["Authorization"] = f"token {token_a}"
    a.base = server.api
    run_a = make_run(a, "private-run")
    tenancy = Tenancy(open_store(server.db_url))
    b = requests.Session()
    b.headers["Authorization"] = f"token {tenancy.create_token(tenancy.create_user('b' + token_a[-8:].lower().replace('-', '_')), name='t').token}"
    b.base = server.api
    exp_id = call(a, "GET", f"/runs/{run_a}").json()["info"]["experiment_id"]
    for method, path in (("GET", f"/runs/{run_a}"), ("PATCH", f"/runs/{run_a}"), ("DELETE", f"/runs/{run_a}"),
                         ("GET", f"/runs/{run_a}/artifacts"), ("GET", f"/experiments/{exp_id}"),
                         ("POST", f"/runs/{run_a}/log-batch")):
        resp = call(b, method, path, json={} if method in ("PATCH", "POST") else None)
        assert resp.status_code == 404, (method, path, resp.status_code)
        assert "private-run" not in resp.text
    assert call(b, "POST", "/runs/search", json={}).json()["runs"] == []
    assert call(b, "GET", "/experiments").json() == {"experiments": []}
