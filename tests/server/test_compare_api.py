"""POST /compare over a real server, and wb.compare / wb.runs in a notebook (embedded and over HTTP)."""

import os
import re

import pytest
import requests

from tests.server.conftest import call
from workbench import models
from workbench.store.engine import open_store
from workbench.tenancy import Tenancy


def make_run(api, name, *, lr, losses):
    exp = call(api, "POST", "/experiments", json={"name": "cmp", "exist_ok": True}).json()
    run_id = call(api, "POST", "/runs", json={"experiment_id": exp["id"], "name": name}).json()["info"]["run_id"]
    batch = {"metrics": [{"key": "loss", "value": v, "step": i, "timestamp": 1000 * (i + 1)}
                         for i, v in enumerate(losses)],
             "params": [{"key": "lr", "value": lr}], "tags": [{"key": "team", "value": "growth"}]}
    assert call(api, "POST", f"/runs/{run_id}/log-batch", json=batch).status_code == 204
    return run_id


def test_compare_answers_a_bokeh_item_of_the_runs(api):
    a = make_run(api, "a", lr="0.1", losses=[1.0, 0.5, 0.25])
    b = make_run(api, "b", lr="0.01", losses=[1.0, 0.8, 0.6])
    resp = call(api, "POST", "/compare", json={"run_ids": [b, a]})
    assert resp.status_code == 200, resp.text
    view = models.CompareView.model_validate(resp.json())
    assert (view.run_count, view.metrics, view.downsampled) == (2, ["loss"], False)
    assert {"doc", "root_id"} <= set(view.item) and view.item["doc"]["roots"]
    assert '"b"' in resp.text and '"a"' in resp.text
    # A budget smaller than the points: downsampled on the server, and said so.
    small = call(api, "POST", "/compare", json={"run_ids": [a, b], "metrics": ["loss"], "max_points": 4}).json()
    assert small["downsampled"] is True


def test_the_page_scripts_are_served_without_a_login(api):
    # Shared pages and notebook outputs load BokehJS from here, by these names.
    from workbench.reports.render import BOKEH_FILES

    for name in BOKEH_FILES:
        resp = requests.get(api.server.url + "workbench/static/bokeh/" + name, timeout=30)
        assert resp.status_code == 200 and len(resp.content) > 10_000, name


@pytest.mark.parametrize("body, status, words", [
    ({"run_ids": []}, 400, "at least one run"),
    ({"run_ids": ["x"] * 10_001}, 400, "At most 10,000 runs"),
    ({"run_ids": "abc"}, 400, "run_ids"),
    ({}, 400, "run_ids"),
    ({"run_ids": ["RUN"], "metrics": ["nope"]}, 400, "None of these runs logged metric 'nope'"),
    ({"run_ids": ["RUN"], "max_points": -1}, 400, "max_points"),
    ({"run_ids": ["0123456789abcdef0123456789abcdef"]}, 404, "No run"),
])
def test_bad_input_gets_a_clear_4xx(api, body, status, words):
    if body.get("run_ids") == ["RUN"]:
        body = {**body, "run_ids": [make_run(api, "r", lr="1", losses=[1.0])]}
    resp = call(api, "POST", "/compare", json=body)
    assert resp.status_code == status, resp.text
    err = resp.json()
    assert set(err) == {"error", "message"} and words in err["message"]


def test_nobody_compares_anothers_runs(api):
    mine = make_run(api, "private-run", lr="0.3", losses=[1.0])
    tenancy = Tenancy(open_store(api.server.db_url))
    other = tenancy.create_user("o" + mine[:10])
    token = tenancy.create_token(other, name="t").token
    resp = requests.post(api.base + "/compare", json={"run_ids": [mine]}, timeout=60,
                         headers={"Authorization": f"token {token}"})
    assert resp.status_code == 404 and "private-run" not in resp.text and "0.3" not in resp.text
    assert requests.post(api.base + "/compare", json={"run_ids": [mine]}, timeout=60).status_code in (401, 403)


def test_compare_is_in_the_openapi_document(api):
    doc = call(api, "GET", "/openapi.json").json()
    [path] = [p for p in doc["paths"] if p.endswith("/compare")]
    post = doc["paths"][path]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CompareRequest")
    assert "CompareView" in doc["components"]["schemas"]


def test_wb_compare_and_wb_runs_show_inline(sdk):
    wb = sdk
    wb.set_experiment("inline")
    for lr in ("0.1", "0.01"):
        with wb.start_run(name=f"lr={lr}"):
            wb.log_param("lr", lr)
            for step, loss in enumerate((1.0, 0.5, float(lr))):
                wb.log_metric("loss", loss, step=step)
    frame = wb.search_runs(experiment="inline")
    result = wb.compare(frame)
    assert (result.run_count, result.metrics, result.downsampled) == (2, ["loss"], False)
    shown = result._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "Bokeh.embed.embed_item" in shown
    over_http = bool(os.environ.get("WORKBENCH_URL"))
    scripts = re.findall(r"&lt;script src=&quot;([^&]*)", shown)
    if over_http:  # BokehJS from the server the kernel talks to, by path (the awkward base URL included)
        assert scripts and all(s.startswith("/a%40b/workbench/static/bokeh/bokeh") for s in scripts)
    else:  # no server: BokehJS inline
        assert scripts == []
    assert wb.compare(frame["run_id"].tolist()[:1], metrics=["loss"]).run_count == 1
    with pytest.raises(wb.InvalidArgument, match="metric 'acc'"):
        wb.compare(frame, metrics=["acc"])
    table = wb.runs(experiment="inline")
    assert len(table) == 2 and set(table.frame["name"]) == {"lr=0.1", "lr=0.01"}
    assert table._repr_html_().startswith("<iframe srcdoc=")
