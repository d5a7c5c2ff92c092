"""Pages of runs: the runs table and ``wb.search_runs``.

Experiments are already resolved and permission-checked by the caller
(``Tracking.search_runs``); this module plans the page's queries and turns rows into Runs.

SQLite has no statistics to plan with, so the shape of each query is chosen here. A page
is read one of three ways:

* **walk**: read the first sort key's (experiment_id, key, value) index in order, checking
  the filter run by run, and stop when the page is full: cheap when matches are common or
  the page is near the top. Runs without a value for the key (missing, or NaN) sort last;
  they are read by a second query only when the page reaches past the runs that have one.
  Sorting by start_time walks ix_wb_runs_experiment_start the same way.
* **sort the matches**: read only the runs the filter matches, from the index of its most
  selective condition (:func:`matching_runs`), and sort them: cheap when few runs match or
  the page is deep, and the only cheap way for sorts no index provides.
* **scan**: every run of the experiments, filtered and sorted; when neither applies.

The total counts the index-driven matches when there are any, so it reads every run only
for filters no index can drive.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select, union
from sqlalchemy.orm import Session, defer

from workbench import models
from workbench.errors import InvalidArgument
from workbench.store import Store
from workbench.store.tables import (
    ExperimentKeyRow,
    LatestMetricRow,
    ParamRow,
    RunRow,
    TagRow,
    UserRow,
    metric_from_db,
)
from workbench.tracking import filters
from workbench.tracking.filters import And, Column, Comparison, Expr, Or

MAX_PAGE = 50_000

_RUNS = RunRow.__table__
_KEYED = {"metric": LatestMetricRow.__table__, "param": ParamRow.__table__, "tag": TagRow.__table__}
_NEWEST_FIRST = (Column("attribute", "start_time"), True)
# Which condition of an ``and`` drives the query, without statistics to go by: an equality
# reads the fewest index entries, a range more, a negation nearly the whole key.
_DRIVE_RANK = {"=": 0, "in": 0, "<": 1, "<=": 1, ">": 1, ">=": 1, "like": 1, "ilike": 1}


def search_runs(store: Store, exp_ids: list[int], query: models.RunsQuery) -> models.RunsPage:
    if not 0 < query.max_results <= MAX_PAGE:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_PAGE}, got {query.max_results}.")
    if query.offset < 0:
        raise InvalidArgument(f"offset must be 0 or more, got {query.offset}.")
    expr = filters.parse_filter(query.filter)
    order = filters.parse_order_by(query.order_by)  # validated even if nothing matches
    if not exp_ids:
        return models.RunsPage(runs=[], total=0, offset=query.offset)
    with store.session() as s:
        plan = _Plan(s, exp_ids, expr, order)
        total = plan.total() if query.include_total else None
        ids = plan.page(query.offset, query.max_results)
        # A page never shows notebook sources or package lists: leave those big columns unread.
        lean = select(RunRow).options(defer(RunRow.source), defer(RunRow.packages)).where(RunRow.id.in_(ids))
        rows = {r.id: r for r in s.scalars(lean)} if ids else {}
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


# --- Index-driven matches ----------------------------------------------------------------
def _drivable(expr: Expr) -> bool:
    """Whether every run matching ``expr`` has a row, in the index of a key it names, that one
    of its conditions selects: then that index range can drive the query."""
    if isinstance(expr, Comparison):
        return expr.column.kind in _KEYED and expr.op != "is null"
    if isinstance(expr, And):
        return any(map(_drivable, expr.items))
    return all(map(_drivable, expr.items))


def _drive_rank(expr: Expr) -> int:
    return _DRIVE_RANK.get(expr.op, 2) if isinstance(expr, Comparison) else 3


def _items(expr: Expr) -> tuple[Expr, ...]:
    """The conditions an ``and`` requires; ``expr`` itself otherwise."""
    return expr.items if isinstance(expr, And) else (expr,)


def _reads_runs(expr: Expr) -> bool:
    if isinstance(expr, Comparison):
        return expr.column.kind == "attribute"
    return any(map(_reads_runs, expr.items))


def matching_runs(expr: Expr | None, exp_ids: Sequence[int]) -> Select | None:
    """A SELECT of the ids of the runs in these experiments that match ``expr``: one
    condition's index range, the other conditions probed per run, so runs failing that
    condition are never visited. An ``or`` is the UNION of its branches. None when no
    condition can drive it: no filter, or one that matches runs lacking every key it names
    (``is null``, attributes only, an ``or`` with such a branch).

    Example:
        >>> matches = matching_runs(filters.parse_filter("params.model = 'xgb' and metrics.auc > 0.9"), [1])
        >>> total = select(func.count()).select_from(matches.subquery())
    """
    if expr is None or not _drivable(expr):
        return None
    if isinstance(expr, Or):
        # UNION, not UNION ALL: a run matching two branches is one run.
        branches = [matching_runs(item, exp_ids) for item in expr.items]
        return select(union(*branches).subquery().c.run_id)  # type: ignore[arg-type]
    items = _items(expr)
    lead = min((i for i, item in enumerate(items) if _drivable(item)), key=lambda i: _drive_rank(items[i]))
    driver, rest = items[lead], items[:lead] + items[lead + 1 :]
    if isinstance(driver, Comparison):
        stmt = filters.key_rows(driver, exp_ids)
    else:  # an ``or`` inside the ``and``
        stmt = select(matching_runs(driver, exp_ids).subquery().c.run_id)  # type: ignore[union-attr]
    run_id = stmt.selected_columns[0]
    if any(map(_reads_runs, rest)):
        stmt = stmt.join(_RUNS, _RUNS.c.id == run_id)
    return stmt.where(*(filters.compile_filter(item, run_id=run_id) for item in rest))


# --- The page ------------------------------------------------------------------------------
class _Plan:
    """The queries of one search; each count is run at most once, and only when needed."""

    def __init__(self, s: Session, exp_ids: list[int], expr: Expr | None, order: list[tuple[Column, bool]]):
        self.s = s
        self.exp_ids = exp_ids
        self.expr = expr
        self.order = order
        self.matches = matching_runs(expr, exp_ids)
        self._total: int | None = None
        self._run_count: int | None = None

    def _count(self, expr: Expr | None) -> int:
        if (matches := matching_runs(expr, self.exp_ids)) is not None:
            return self.s.scalar(select(func.count()).select_from(matches.subquery())) or 0
        stmt = select(func.count()).select_from(RunRow)
        stmt = stmt.where(filters.experiment_scope(RunRow.experiment_id, self.exp_ids))
        if expr is not None:
            stmt = stmt.where(filters.compile_filter(expr))
        return self.s.scalar(stmt) or 0

    def total(self) -> int:
        if self._total is None:
            self._total = self._count(self.expr)
        return self._total

    def _runs(self) -> int:
        if self._run_count is None:
            self._run_count = self.total() if self.expr is None else self._count(None)
        return self._run_count

    def page(self, offset: int, limit: int) -> list[str]:
        if self._total is not None and offset >= self._total:
            return []
        column, descending = self.order[0] if self.order else _NEWEST_FIRST
        # A walk follows an index in sort order: the key's, or for start_time the one the
        # scan's plan reads anyway (so without matches to sort instead, nothing to decide).
        # Runs of several experiments interleave in both, so they are sorted.
        by_time = column.key == "start_time" and self.matches is not None
        walk = len(self.exp_ids) == 1 and (column.kind in _KEYED or by_time)
        if walk and self._walk_is_cheaper(offset + limit):
            if column.kind in _KEYED:
                return self._walk_key(column, descending, offset, limit)
            return self._scan(offset, limit)
        if self.matches is not None:
            return self._sort_matches(offset, limit)
        return self._scan(offset, limit)

    def _walk_is_cheaper(self, depth: int) -> bool:
        """Whether walking to ``depth`` reads fewer rows than sorting every match would."""
        if self.expr is not None and self.matches is None:
            return True  # counting would read every run, as the only alternative (a scan) does
        # With matches spread evenly along the sort key, a walk reads about depth * runs /
        # matches index entries to fill the page; sorting reads each match once, and about
        # twice as cheaply per row (SQLite, 100,000 runs) as a walk reads an entry.
        total = self.total()
        return 2 * depth * self._runs() <= total * total

    def _sort_matches(self, offset: int, limit: int) -> list[str]:
        assert self.matches is not None
        found = self.matches.subquery()
        stmt = select(_RUNS.c.id).select_from(found).join(_RUNS, _RUNS.c.id == found.c.run_id)
        stmt, keys = filters.order_keys(stmt, self.order)
        return list(self.s.scalars(stmt.order_by(*keys).limit(limit).offset(offset)))

    def _scan(self, offset: int, limit: int, *, where: Sequence = (), order: list | None = None) -> list[str]:
        """Every run of the experiments, filtered (and ``where``), sorted by ``order`` or the query's."""
        stmt = select(_RUNS.c.id).where(filters.experiment_scope(_RUNS.c.experiment_id, self.exp_ids), *where)
        if self.expr is not None:
            stmt = stmt.where(filters.compile_filter(self.expr))
        stmt, keys = filters.order_keys(stmt, self.order if order is None else order)
        return list(self.s.scalars(stmt.order_by(*keys).limit(limit).offset(offset)))

    def _walk_key(self, column: Column, descending: bool, offset: int, limit: int) -> list[str]:
        """The page in the order of ``column``'s index, then of the runs without a value for it."""
        table = _KEYED[column.kind].alias()
        stmt = (
            select(_RUNS.c.id)
            .select_from(table)
            .join(_RUNS, _RUNS.c.id == table.c.run_id)
            .where(filters.experiment_scope(table.c.experiment_id, self.exp_ids), table.c.key == column.key)
            .where(table.c.value.is_not(None))
        )
        if self.expr is not None:
            stmt = stmt.where(filters.compile_filter(self.expr, run_id=table.c.run_id))
        stmt, keys = filters.order_keys(stmt, self.order[1:])
        # A plain direction, no NULLS LAST (there are no NULLs here): the order the index has.
        value = table.c.value.desc() if descending else table.c.value.asc()
        ids = list(self.s.scalars(stmt.order_by(value, *keys).limit(limit).offset(offset)))
        if len(ids) == limit:
            return ids
        # The page reaches past the runs with a value: the rest follow, sorted by the other keys.
        has_value = Comparison(column, "has value")
        if ids or offset == 0:
            with_value = offset + len(ids)
        else:  # the page starts past them: count them
            with_value = self._count(has_value if self.expr is None else And((*_items(self.expr), has_value)))
        skip = max(0, offset - with_value)
        if self._total is not None and skip >= self._total - with_value:
            return ids
        without = ~filters.compile_filter(has_value)
        return ids + self._scan(skip, limit - len(ids), where=[without], order=self.order[1:])


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
            data[rid].metrics[k] = metric_from_db(v)
        for rid, k, v in s.execute(select(TagRow.run_id, TagRow.key, TagRow.value).where(TagRow.run_id.in_(chunk))):
            data[rid].tags[k] = v
    return [models.Run(info=run_info(r, users.get(r.owner_id, "?")), data=data[r.id]) for r in rows]
