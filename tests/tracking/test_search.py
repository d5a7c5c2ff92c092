"""Pages of runs (``workbench.tracking.search``) against a plain reference.

The search picks a different query shape by sort key, filter and page depth (walk a key's
index, sort the index-driven matches, or scan), and reads runs without a value for the sort
key in a second query. Every shape must return exactly what the simple definition says: the
runs the filter matches (``filter_clause``, pinned by test_filters.py), sorted in Python
with missing and NaN last in both directions, ties newest first, then by id. Random runs
with many ties, NaNs, infinities and missing keys, over pages that straddle the runs with
and without a value, reach past the end, and span two experiments.
"""

from __future__ import annotations

import functools
import math
import random

import pytest
from sqlalchemy import insert, select

from tests.conftest import BACKENDS, drop_pg_database, fresh_pg_database
from workbench import models
from workbench.store.engine import Store
from workbench.store.tables import LatestMetricRow, ParamRow, RunRow, TagRow
from workbench.tenancy import Tenancy
from workbench.tracking import search
from workbench.tracking.filters import experiment_scope, filter_clause, parse_order_by
from workbench.tracking.service import Tracking

N_RUNS = {"a": 260, "b": 90, "c": 40}  # c is never searched: its runs must never show up
STATUSES = ["RUNNING", "FINISHED", "FAILED", "KILLED"]
METRIC_VALUES = [0.1, 0.2, 0.2, 0.5, 0.9, -1.0, math.inf, -math.inf, 0.0]

FILTERS = [
    "",
    "metrics.m > 0.15",
    "metrics.m >= 0.2 and params.p = 'v1'",
    "params.p = 'v1' or tags.t = 'x'",
    "metrics.m is null",
    "metrics.m != 0.5 and tags.t is not null",
    "tags.t = 'y' and status = 'FINISHED'",
    "(params.p in ('v1', 'v2') or metrics.n < 0.3) and tags.t != 'z'",
    "status = 'RUNNING' or user = 'bob'",
    "params.p is null or metrics.m < 0",
    "(params.p = 'v1' or metrics.n < 0.3) and status != 'KILLED'",
    "params.nope = 'v1'",
]
ORDERS = [
    [],
    ["metrics.m DESC"],
    ["metrics.m ASC"],
    ["metrics.n DESC", "params.p"],
    ["params.p DESC", "metrics.m"],
    ["tags.t", "end_time DESC"],
    ["metrics.nope DESC"],
    ["start_time ASC"],
    ["end_time DESC"],
    ["user", "metrics.m DESC"],
]


def _backends() -> list:
    return [pytest.param(b, id=b, marks=[pytest.mark.postgres] if b == "postgresql" else []) for b in BACKENDS]


def _maybe(rng: random.Random, p: float, value):
    return value if rng.random() < p else None


def _seed(store: Store) -> tuple[dict[str, int], dict[str, dict]]:
    """Random runs inserted as the service stores them; returns experiment ids and the runs."""
    tenancy, tracking = Tenancy(store), Tracking(store)
    users = {name: tenancy.create_user(name) for name in ("alice", "bob")}
    exps = {name: tracking.create_experiment(users["alice"], name).id for name in N_RUNS}
    rng = random.Random(20240611)
    runs: dict[str, dict] = {}
    rows: dict[str, list[dict]] = {"runs": [], "metric": [], "param": [], "tag": []}
    for exp_name, n in N_RUNS.items():
        for i in range(n):
            rid = f"{rng.getrandbits(128):032x}"
            start = 1_000 * rng.randrange(40)  # many ties: the id decides
            # NaN is stored as NULL (None here); a key absent from the dict is a missing key.
            metrics = {}
            if rng.random() < 0.8:
                metrics["m"] = _maybe(rng, 0.85, rng.choice(METRIC_VALUES))
            if rng.random() < 0.5:
                metrics["n"] = rng.choice([0.1, 0.3, 0.7, None])
            run = {
                "id": rid, "experiment_id": exps[exp_name], "name": f"run-{i:03d}",
                "status": rng.choice(STATUSES), "start_time": start,
                "end_time": _maybe(rng, 0.7, start + rng.randrange(3) * 500),
                "user": rng.choice(["alice", "bob"]),
                "metrics": metrics,
                "params": {"p": f"v{rng.randrange(5)}"} if rng.random() < 0.7 else {},
                "tags": {"t": rng.choice("xyz")} if rng.random() < 0.6 else {},
            }  # fmt: skip
            runs[rid] = run
            rows["runs"].append({
                "id": rid, "experiment_id": run["experiment_id"], "owner_id": users[run["user"]].id,
                "name": run["name"], "status": run["status"], "start_time": start,
                "end_time": run["end_time"],
            })  # fmt: skip
            for kind in ("metric", "param", "tag"):
                rows[kind] += [
                    {"run_id": rid, "key": k, "value": v, "experiment_id": run["experiment_id"]}
                    for k, v in run[kind + "s"].items()
                ]
    with store.engine.begin() as conn:
        conn.execute(insert(RunRow), rows["runs"])
        conn.execute(insert(LatestMetricRow), [{**r, "step": 0, "timestamp": 0} for r in rows["metric"]])
        conn.execute(insert(ParamRow), rows["param"])
        conn.execute(insert(TagRow), rows["tag"])
    return exps, runs


@pytest.fixture(scope="module", params=_backends())
def seeded(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'wb.db'}"
    else:
        url = fresh_pg_database("wbsearch")
    store = Store(url)
    store.ensure_schema()
    exps, runs = _seed(store)
    yield store, exps, runs
    store.dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


# --- the reference --------------------------------------------------------------------------


def _value(run: dict, kind: str, key: str):
    if kind == "attribute":
        return run["id"] if key == "run_id" else run["name"] if key == "run_name" else run[key]
    return run[kind + "s"].get(key)  # None: missing, or NaN


def reference(store: Store, runs: dict, exp_ids: list[int], text: str, order_by: list[str]) -> list[str]:
    """Matching ids from the plain filter SQL, sorted in Python."""
    stmt = select(RunRow.id).where(experiment_scope(RunRow.experiment_id, exp_ids))
    if (clause := filter_clause(text)) is not None:
        stmt = stmt.where(clause)
    with store.engine.connect() as conn:
        matched = list(conn.scalars(stmt))
    terms = [(c.kind, c.key, desc) for c, desc in parse_order_by(order_by)]
    terms.append(("attribute", "start_time", True))

    def compare(a: str, b: str) -> int:
        for kind, key, descending in terms:
            x, y = _value(runs[a], kind, key), _value(runs[b], kind, key)
            if x == y:
                continue
            if x is None or y is None:  # missing and NaN last, whatever the direction
                return 1 if x is None else -1
            return (1 if x > y else -1) * (-1 if descending else 1)
        return (a > b) - (a < b)

    return sorted(matched, key=functools.cmp_to_key(compare))


def _with_value(runs: dict, ids: list[str], order_by: list[str]) -> int:
    """How many of the sorted ``ids`` have a value for the first sort key (they come first)."""
    if not order_by:
        return len(ids)
    (column, _), *_ = parse_order_by(order_by)
    return sum(_value(runs[i], column.kind, column.key) is not None for i in ids)


def _pages(n: int, with_value: int) -> list[tuple[int, int]]:
    """(offset, limit): the top, pages straddling and just past the runs with a value, the end, past it."""
    offsets = [0, with_value - 2, with_value - 1, with_value, with_value + 1, n - 3, n, n + 7]
    limits = [5, 1, 7, 50, 3, 4, 1, 2]
    return sorted({(max(0, o), lim) for o, lim in zip(offsets, limits, strict=True)})


@pytest.fixture(params=["planned", "always-walk", "never-walk"])
def strategy(request, monkeypatch):
    """The search as planned, and forced into each query shape the planner can choose."""
    if request.param != "planned":
        walk = request.param == "always-walk"
        monkeypatch.setattr(search._Plan, "_walk_is_cheaper", lambda self, depth: walk)
    return request.param


@pytest.mark.parametrize("text", FILTERS)
def test_pages_match_the_reference(seeded, strategy, text):
    store, exps, runs = seeded
    for exp_ids in ([exps["a"]], [exps["a"], exps["b"]]):
        for i, order_by in enumerate(ORDERS):
            expected = reference(store, runs, exp_ids, text, order_by)
            for j, (offset, limit) in enumerate(_pages(len(expected), _with_value(runs, expected, order_by))):
                query = models.RunsQuery(
                    experiment_ids=exp_ids, filter=text, order_by=order_by, max_results=limit, offset=offset,
                    include_total=(i + j) % 2 == 0,  # both ways for every page, over the orders
                )  # fmt: skip
                page = search.search_runs(store, exp_ids, query)
                where = f"{text!r} {order_by} experiments={exp_ids} offset={offset} limit={limit}"
                assert [r.id for r in page.runs] == expected[offset : offset + limit], where
                assert page.total == (len(expected) if query.include_total else None), where


def test_runs_carry_their_data(seeded):
    store, exps, runs = seeded
    query = models.RunsQuery(order_by=["metrics.m DESC"], max_results=1000)
    page = search.search_runs(store, [exps["b"]], query)
    assert len(page.runs) == N_RUNS["b"]
    for run in page.runs:
        want = runs[run.id]
        assert run.data.params == want["params"] and run.data.tags == want["tags"]
        got = {k: None if math.isnan(v) else v for k, v in run.data.metrics.items()}
        assert got == want["metrics"]
        assert (run.info.start_time, run.info.user) == (want["start_time"], want["user"])


# --- a small, readable case of the boundary ------------------------------------------------------


def _batch(metrics=(), params=()):
    return models.LogBatch(
        metrics=[models.MetricPoint(key=k, value=v, step=0, timestamp=0) for k, v in metrics],
        params=[models.Param(key=k, value=v) for k, v in params],
    )


@pytest.mark.parametrize("include_total", [True, False])
def test_page_straddles_runs_with_and_without_the_sort_key(tracking, alice, strategy, include_total):
    # Created oldest first: r0 .. r7. NaN and missing keys sit between runs with values.
    exp = tracking.create_experiment(alice, "grid")
    values = [0.5, math.nan, 0.9, None, 0.5, math.nan, None, 0.1]
    for i, value in enumerate(values):
        spec = models.RunCreate(experiment_id=exp.id, name=f"r{i}", start_time=i + 1)
        run = tracking.create_run(alice, spec)
        tracking.log_batch(alice, run.id, _batch(metrics=[("auc", value)] if value is not None else [],
                                                 params=[("depth", str(i % 2))]))  # fmt: skip
    # Values first (ties newest first), then NaN and missing alike, newest first.
    by_auc = {"DESC": ["r2", "r4", "r0", "r7", "r6", "r5", "r3", "r1"],
              "ASC": ["r7", "r4", "r0", "r2", "r6", "r5", "r3", "r1"]}  # fmt: skip
    # depth '0' leaves exactly one run without a value (r6); depth '1' three (r5, r3, r1).
    for text, keep in (("", "01234567"), ("params.depth = '0'", "0246"), ("params.depth = '1'", "1357")):
        for direction, order in by_auc.items():
            expected = [name for name in order if name[1] in keep]
            for offset in range(len(expected) + 2):
                for limit in (1, 2, 3):
                    query = models.RunsQuery(
                        experiment_ids=[exp.id], filter=text, order_by=[f"metrics.auc {direction}"],
                        max_results=limit, offset=offset, include_total=include_total,
                    )  # fmt: skip
                    page = tracking.search_runs(alice, query)
                    want = expected[offset : offset + limit]
                    assert [r.info.name for r in page.runs] == want, (text, direction, offset, limit)
                    assert page.total == (len(expected) if include_total else None)
