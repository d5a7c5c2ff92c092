"""Saved reports: a comparison of runs under a title, with notes in Markdown.

A report belongs to the user who saved it and no one else sees it (a share link
shows it read-only to whoever holds the link). It can only name runs its owner
can read; when it is opened later, runs deleted or no longer visible to the owner
since are left out rather than shown.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence

from sqlalchemy import delete, select

from workbench import models
from workbench.clock import now_ms
from workbench.errors import InvalidArgument, NotFound
from workbench.store import Store
from workbench.store.tables import ReportRow, ShareLinkRow, ShareViewRow
from workbench.tenancy import Principal
from workbench.tracking.service import Tracking

MAX_RUNS = 10_000


def new_report_id() -> str:
    return "rep_" + secrets.token_hex(8)


class Reports:
    """Create, read, change and delete saved reports; every method takes the acting user."""

    def __init__(self, store: Store, tracking: Tracking):
        self.store = store
        self.tracking = tracking

    def _row(self, s, user: Principal, report_id: str) -> ReportRow:
        row = s.get(ReportRow, report_id) if isinstance(report_id, str) else None
        if row is None or row.owner_id != user.id:
            raise NotFound(f"No report with id {report_id!r} of yours.")
        return row

    def _check_runs(self, user: Principal, run_ids: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(run_ids))
        if not wanted:
            raise InvalidArgument("A report needs at least one run.")
        if len(wanted) > MAX_RUNS:
            raise InvalidArgument(f"A report holds at most {MAX_RUNS:,} runs; got {len(wanted):,}.")
        readable = set(self.tracking.readable_run_ids(user, wanted))
        missing = next((r for r in wanted if r not in readable), None)
        if missing is not None:
            raise NotFound(f"No run with id {missing!r} that you can see.")
        return wanted

    @staticmethod
    def _model(row: ReportRow, owner: str) -> models.Report:
        return models.Report(id=row.id, title=row.title, notes=row.notes, run_ids=json.loads(row.run_ids),
                             owner=owner, created_at=row.created_at, updated_at=row.updated_at)

    def create(self, user: Principal, spec: models.ReportCreate) -> models.Report:
        """Save runs (readable by ``user``) as a report.

        Example:
            >>> reports.create(alice, models.ReportCreate(title="lr sweep", notes="**0.01** wins", run_ids=ids))
        """
        run_ids = self._check_runs(user, spec.run_ids)
        now = now_ms()
        row = ReportRow(id=new_report_id(), owner_id=user.id, title=_title(spec.title), notes=spec.notes,
                        run_ids=json.dumps(run_ids), created_at=now, updated_at=now)
        with self.store.session() as s:
            s.add(row)
            s.flush()
            return self._model(row, user.name)

    def get(self, user: Principal, report_id: str) -> models.Report:
        """One of ``user``'s reports, with the runs they can still read (deleted ones left out)."""
        with self.store.session() as s:
            report = self._model(self._row(s, user, report_id), user.name)
        return report.model_copy(update={"run_ids": self.tracking.readable_run_ids(user, report.run_ids)})

    def list(self, user: Principal) -> list[models.ReportSummary]:
        """``user``'s reports, most recently changed first."""
        with self.store.session() as s:
            rows = s.scalars(select(ReportRow).where(ReportRow.owner_id == user.id)
                             .order_by(ReportRow.updated_at.desc(), ReportRow.id)).all()
            return [models.ReportSummary(id=r.id, title=r.title, run_count=len(json.loads(r.run_ids)),
                                         created_at=r.created_at, updated_at=r.updated_at) for r in rows]

    def update(self, user: Principal, report_id: str, change: models.ReportUpdate) -> models.Report:
        run_ids = self._check_runs(user, change.run_ids) if change.run_ids is not None else None
        with self.store.session() as s:
            row = self._row(s, user, report_id)
            if change.title is not None:
                row.title = _title(change.title)
            if change.notes is not None:
                row.notes = change.notes
            if run_ids is not None:
                row.run_ids = json.dumps(run_ids)
            row.updated_at = max(now_ms(), row.updated_at + 1)
            s.flush()
            return self._model(row, user.name)

    def delete(self, user: Principal, report_id: str) -> None:
        """Delete a report; its share links stop working."""
        with self.store.session() as s:
            row = self._row(s, user, report_id)
            links = select(ShareLinkRow.id).where(ShareLinkRow.report_id == row.id)
            s.execute(delete(ShareViewRow).where(ShareViewRow.share_id.in_(links)))
            s.execute(delete(ShareLinkRow).where(ShareLinkRow.report_id == row.id))
            s.delete(row)

    def html(self, owner: Principal, report: models.Report, *, bokeh_js: str = "server",
             static_prefix: str = "/workbench/static/bokeh/", footer: str = "") -> str:
        """The report (as :meth:`get` returns it: only runs ``owner`` can read now) as a
        standalone page.

        ``bokeh_js="inline"`` makes a file that works offline (exports); ``"server"`` loads
        BokehJS from ``static_prefix`` on the Workbench server (shared links).

        Raises:
            NotFound: none of the report's runs is there any more.
        """
        from workbench.reports.compare import build_comparison
        from workbench.reports.render import report_html

        if not report.run_ids:
            raise NotFound("None of this report's runs is there any more.")
        comparison = build_comparison(self.tracking, owner, report.run_ids)
        return report_html(comparison, title=report.title, notes_markdown=report.notes, bokeh_js=bokeh_js,
                           static_prefix=static_prefix, footer=footer)


def _title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidArgument("A report needs a title.")
    return title


def default_title(run_count: int, experiments: Sequence[str]) -> str:
    """A title for runs shared without one: '3 runs of churn', '12 runs of churn, fraud'."""
    names = list(dict.fromkeys(experiments))
    where = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{run_count} run{'s' if run_count != 1 else ''}" + (f" of {where}" if where else "")
