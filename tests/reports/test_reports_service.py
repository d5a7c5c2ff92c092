"""Saved reports on the real store: create, read, change, delete, and who may do what."""

from __future__ import annotations

import pytest

from tests.reports import log_run
from workbench import models
from workbench.errors import InvalidArgument, NotFound
from workbench.reports.service import Reports, default_title


@pytest.fixture
def reports(store, tracking):
    return Reports(store, tracking)


@pytest.fixture
def alices_runs(tracking, alice):
    return [log_run(tracking, alice, "churn", f"rf-{i}", params={"depth": str(i)}, metrics={"auc": [0.5, 0.6 + i / 100]})
            for i in range(3)]


def test_a_report_keeps_title_notes_and_run_order(reports, alice, alices_runs):
    order = [alices_runs[2], alices_runs[0], alices_runs[2]]  # repeats dropped, order kept
    report = reports.create(alice, models.ReportCreate(title="  Best   churn ", notes="**rf-2** wins", run_ids=order))
    assert (report.title, report.notes, report.run_ids, report.owner) == (
        "Best churn", "**rf-2** wins", [alices_runs[2], alices_runs[0]], "alice")
    assert report.id.startswith("rep_") and reports.get(alice, report.id) == report
    [summary] = reports.list(alice)
    assert (summary.id, summary.run_count) == (report.id, 2)

    changed = reports.update(alice, report.id, models.ReportUpdate(notes="depth matters", run_ids=alices_runs))
    assert (changed.title, changed.notes, changed.run_ids) == ("Best churn", "depth matters", alices_runs)
    assert changed.updated_at > report.updated_at
    reports.delete(alice, report.id)
    with pytest.raises(NotFound):
        reports.get(alice, report.id)


def test_only_readable_runs_and_only_ones_own_reports(reports, tracking, alice, bob, alices_runs):
    bobs_run = log_run(tracking, bob, "risk", "bobs-run", metrics={"auc": [0.7]})
    with pytest.raises(NotFound) as refused:
        reports.create(bob, models.ReportCreate(title="stolen", run_ids=[alices_runs[0]]))
    assert "rf-0" not in str(refused.value)
    with pytest.raises(NotFound):
        reports.create(alice, models.ReportCreate(title="mixed", run_ids=[alices_runs[0], bobs_run]))
    report = reports.create(alice, models.ReportCreate(title="mine", run_ids=alices_runs))
    for attempt in (lambda: reports.get(bob, report.id),
                    lambda: reports.update(bob, report.id, models.ReportUpdate(title="hijacked")),
                    lambda: reports.delete(bob, report.id)):
        with pytest.raises(NotFound):
            attempt()
    assert reports.list(bob) == []
    assert reports.get(alice, report.id).title == "mine"  # untouched


def test_bad_reports_are_refused_with_a_reason(reports, alice, alices_runs):
    with pytest.raises(InvalidArgument, match="title"):
        reports.create(alice, models.ReportCreate(title="   ", run_ids=alices_runs))
    with pytest.raises(ValueError):  # pydantic: what the API answers with 400
        models.ReportCreate(title="x", run_ids=[])
    with pytest.raises(NotFound):
        reports.create(alice, models.ReportCreate(title="x", run_ids=["no-such-run"]))
    assert reports.list(alice) == []  # nothing half written


def test_opening_a_report_shows_only_runs_still_there(reports, tracking, alice, alices_runs):
    report = reports.create(alice, models.ReportCreate(title="sweep", run_ids=alices_runs))
    tracking.delete_run(alice, alices_runs[1])
    assert reports.get(alice, report.id).run_ids == [alices_runs[0], alices_runs[2]]  # opens without it
    page = reports.html(alice, reports.get(alice, report.id), bokeh_js="server")
    assert "rf-0" in page and "rf-2" in page and "rf-1" not in page and "sweep" in page


def test_default_titles():
    assert default_title(3, ["churn", "churn"]) == "3 runs of churn"
    assert default_title(1, ["a"]) == "1 run of a"
    assert default_title(9, ["a", "b", "c", "d", "e"]) == "9 runs of a, b, c and 2 more"
