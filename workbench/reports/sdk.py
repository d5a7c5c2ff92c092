"""Saved reports and share links from a notebook: ``wb.save_report``, ``wb.reports``,
``wb.get_report``, ``wb.share``, ``wb.shares``, ``wb.revoke_share``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench import models
from workbench.client import get_client
from workbench.reports.inline import run_ids_of
from workbench.reports.service import default_title
from workbench.tenancy.sharing import token_of
from workbench.tracking.fluent import flush


def save_report(runs: Any, *, title: str, notes: str = "") -> models.Report:
    """Save runs as a report: a title, notes in Markdown, and the runs in order.

    ``runs``: a run id, a list of run ids (or Runs), or a ``wb.search_runs`` frame.

    Example:
        >>> report = wb.save_report(wb.search_runs(experiment="churn", filter="metrics.auc > 0.9"),
        ...                         title="Best churn models", notes="**rf** wins; depth 8 overfits.")
        >>> report.id
        'rep_5c1f0e8a9b2d4e61'
    """
    flush()  # runs logged just now are stored before the report names them
    return get_client().create_report(models.ReportCreate(title=title, notes=notes, run_ids=run_ids_of(runs)))


def reports() -> pd.DataFrame:
    """Your saved reports as a DataFrame (id, title, run_count, created_at, updated_at), newest change first."""
    rows = [r.model_dump() for r in get_client().list_reports()]
    frame = pd.DataFrame(rows, columns=["id", "title", "run_count", "created_at", "updated_at"])
    for column in ("created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    return frame


def get_report(report_id: str) -> models.Report:
    """One of your reports, with its notes and run ids."""
    return get_client().get_report(report_id)


def share(obj: Any, *, expires_in: str | int = "7d", title: str | None = None) -> str:
    """A link that opens a read-only report without logging in, until it expires or is revoked.

    ``obj``: a saved report (or its id), a run id, a list of run ids, or a ``wb.search_runs``
    frame; runs are first saved as a report (titled ``title``, by default like "3 runs of
    churn"). ``expires_in``: "30m", "12h", "7d", "2w" or seconds, at most 365 days.

    Whoever has the link can see the report's runs (params, metrics, curves, tags): hand
    it out as you would the numbers themselves; ``wb.revoke_share(url)`` ends it.

    Example:
        >>> url = wb.share(wb.search_runs(experiment="churn").head(5), expires_in="7d")
        >>> url
        'https://workbench.example.com/workbench/share/eyJzIjoic2hyX...'
    """
    client = get_client()
    if isinstance(obj, models.Report):
        report_id = obj.id
    elif isinstance(obj, str) and obj.startswith("rep_"):
        report_id = obj
    else:
        run_ids = run_ids_of(obj)
        flush()
        if title is None:  # "3 runs of churn": the experiments of the first few runs are enough
            names = {e.id: e.name for e in client.list_experiments()}
            experiment_ids = [client.get_run(r).info.experiment_id for r in run_ids[:20]]
            title = default_title(len(run_ids), [names[e] for e in experiment_ids if e in names])
        report_id = client.create_report(models.ReportCreate(title=title, run_ids=run_ids)).id
    return client.create_share(models.ShareCreate(report_id=report_id, expires_in=expires_in)).url


def shares() -> pd.DataFrame:
    """Your share links as a DataFrame: id, report, url, created, expires, revoked, views, last viewed."""
    rows = [s.model_dump() for s in get_client().list_shares()]
    columns = ["id", "report_id", "report_title", "url", "created_at", "expires_at", "revoked_at", "views",
               "last_viewed_at"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("created_at", "expires_at", "revoked_at", "last_viewed_at"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    return frame


def revoke_share(url_or_id: str) -> None:
    """End a share link (its URL, or its id from ``wb.shares()``): it answers 404 from now on."""
    get_client().revoke_share(url_or_id if url_or_id.startswith("shr_") else token_of(url_or_id))
