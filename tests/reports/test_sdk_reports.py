"""wb.save_report / reports / get_report / share / shares / revoke_share, embedded and over HTTP."""

from __future__ import annotations

import pytest
import requests

from workbench import client


def _log(wb, n=3):
    wb.set_experiment("sdk-share")
    for i in range(n):
        with wb.start_run(name=f"sdk-run-{i}"):
            wb.log_param("depth", i)
            wb.log_metric("auc", 0.7 + i / 10)
    return wb.search_runs(experiment="sdk-share")


def test_reports_and_share_links_from_a_notebook(sdk, monkeypatch, request):
    wb = sdk
    over_http = request.node.callspec.params["sdk"] == "http"
    if not over_http:
        monkeypatch.setenv("WORKBENCH_PUBLIC_URL", "https://wb.example.com/")
        client.reset_client()
    frame = _log(wb)
    report = wb.save_report(frame.head(2), title="Two best", notes="*depth* helps")
    assert (report.title, len(report.run_ids)) == ("Two best", 2)
    assert wb.get_report(report.id).notes == "*depth* helps"
    assert list(wb.reports()["title"]) == ["Two best"]

    url = wb.share(frame, expires_in="2h")  # runs become a report first, titled after them
    assert "/workbench/share/" in url
    assert wb.reports()["title"].tolist() == ["3 runs of sdk-share", "Two best"]
    by_report = wb.share(report)
    if over_http:
        page = requests.get(url, timeout=60)
        assert page.status_code == 200 and "sdk-run-2" in page.text
    else:
        assert url.startswith("https://wb.example.com/workbench/share/")

    links = wb.shares()
    assert set(links["url"]) == {url, by_report} and links["revoked_at"].isna().all()
    wb.revoke_share(url)
    links = wb.shares().set_index("url")
    assert links.loc[url, "revoked_at"] is not None and not links["revoked_at"].isna().all()
    assert links["revoked_at"].isna().sum() == 1  # the other link still works
    if over_http:
        assert requests.get(url, timeout=30).status_code == 404
    with pytest.raises(wb.NotFound):
        wb.revoke_share("shr_0000000000000000")


def test_embedded_share_links_need_to_know_the_server(wb_env, monkeypatch):
    import workbench as wb

    monkeypatch.delenv("WORKBENCH_PUBLIC_URL", raising=False)
    client.reset_client()
    frame = _log(wb, 1)
    with pytest.raises(wb.InvalidArgument, match="WORKBENCH_PUBLIC_URL"):
        wb.share(frame)
