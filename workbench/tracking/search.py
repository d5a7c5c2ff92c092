"""Pages of runs: the runs table and ``wb.search_runs``.

Experiments are already resolved and permission-checked by the caller
(``Tracking.search_runs``); this module turns a query into SQL and rows into Runs.
"""

from __future__ import annotations

import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench import models
from workbench.errors import InvalidArgument
from workbench.store import Store
from workbench.store.tables import ExperimentKeyRow, LatestMetricRow, ParamRow, RunRow, TagRow, UserRow
from workbench.tracking import filters

MAX_PAGE = 50_000


def _float(value: float | None) -> float:
    return math.nan if value is None else value


def search_runs(store: Store, exp_ids: list[int], query: models.RunsQuery) -> models.RunsPage:
    if not 0 < query.max_results <= MAX_PAGE:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_PAGE}, got {query.max_results}.")
    if query.offset < 0:
        raise InvalidArgument(f"offset must be 0 or more, got {query.offset}.")
    where = filters.filter_clause(query.filter)
    ordered = filters.apply_order_by(select(RunRow.id), query.order_by)  # validated even if nothing matches
    if not exp_ids:
        return models.RunsPage(runs=[], total=0, offset=query.offset)
    with store.session() as s:
        scope = [RunRow.experiment_id.in_(exp_ids)] if len(exp_ids) > 1 else [RunRow.experiment_id == exp_ids[0]]
        if where is not None:
            scope.append(where)
        ids = list(s.scalars(ordered.where(*scope).limit(query.max_results).offset(query.offset)))
        total = None
        if query.include_total:
            total = s.scalar(select(func.count()).select_from(RunRow).where(*scope))
        rows = {r.id: r for r in s.scalars(select(RunRow).where(RunRow.id.in_(ids)))} if ids else {}
        runs = assemble_runs(s, [rows[i] for i in ids])
        keys: dict[str, list[str]] = {"param": [], "metric": [], "tag": []}
        for kind, key in s.execute(
            select(ExperimentKeyRow.kind, ExperimentKeyRow.key)
            .where(ExperimentKeyRow.experiment_id.in_(exp_ids))
            .distinct()
            .order_by(ExperimentKeyRow.kind, ExperimentKeyRow.key)
        ):
            keys[kind].append(key)
    return models.RunsPage(
        runs=runs, total=total, offset=query.offset,
        param_keys=keys["param"], metric_keys=keys["metric"], tag_keys=keys["tag"],
    )


def run_info(row: RunRow, user_name: str) -> models.RunInfo:
    return models.RunInfo(
        run_id=row.id, experiment_id=row.experiment_id, name=row.name, status=models.RunStatus(row.status),
        start_time=row.start_time, end_time=row.end_time, user=user_name, notebook_path=row.notebook_path,
        git_commit=row.git_commit, kernel_id=row.kernel_id,
    )


def assemble_runs(s: Session, rows: list[RunRow]) -> list[models.Run]:
    """Runs with their params, latest metrics and tags, in three queries for any number of runs."""
    if not rows:
        return []
    data = {r.id: models.RunData() for r in rows}
    users = dict(s.execute(select(UserRow.id, UserRow.name).where(UserRow.id.in_({r.owner_id for r in rows}))).all())
    ids = list(data)
    for chunk_start in range(0, len(ids), 900):
        chunk = ids[chunk_start:chunk_start + 900]
        for rid, k, v in s.execute(select(ParamRow.run_id, ParamRow.key, ParamRow.value).where(ParamRow.run_id.in_(chunk))):
            data[rid].params[k] = v
        for rid, k, v in s.execute(
            select(LatestMetricRow.run_id, LatestMetricRow.key, LatestMetricRow.value).where(LatestMetricRow.run_id.in_(chunk))
        ):
            data[rid].metrics[k] = _float(v)
        for rid, k, v in s.execute(select(TagRow.run_id, TagRow.key, TagRow.value).where(TagRow.run_id.in_(chunk))):
            data[rid].tags[k] = v
    return [models.Run(info=run_info(r, users.get(r.owner_id, "?")), data=data[r.id]) for r in rows]
