"""Tracking benchmark: the same workloads through Workbench and MLflow, side by side.

Three backends in one run, each workload in a fresh subprocess per backend:

* ``workbench-http``: the SDK in this process, HTTP to a live Jupyter server with
  the Workbench extension (SQLite store in a temp dir), as a notebook kernel logs;
* ``workbench-embedded``: the SDK straight on a SQLite store in a temp dir;
* ``mlflow``: MLflow's fluent API on a SQLite store (``sqlite:///...``).

Workloads (``--quick`` shrinks every size for a smoke run):

1. ``log``: 10,000 ``log_metric`` calls one at a time in one run, timed from the first
   call until ``end_run`` returns (every point stored). MLflow is sampled
   (``--mlflow-sample``, default 1,000 calls) and its total extrapolated.
2. ``runs``: 500 runs, each 10 params and 5 metrics x 100 steps logged one call at
   a time, timed from the first ``start_run`` until the last ``end_run`` returns.
   MLflow is sampled (``--mlflow-runs``, default 20 runs).
3. ``search``: ``search_runs`` with a filter and an order over 500 such runs
   (median of 20). MLflow's 500 runs are created with ``log_batch`` first (untimed).
4. ``history``: metric history of 50 runs (100 points each), median of 5: Workbench
   with its bulk call (``wb.get_metric_history(list_of_ids, key)``), MLflow with a
   loop (it has no bulk call in its client); Workbench's loop is shown too.
5. ``page``: the runs-table page (first 50 rows, filtered, sorted by a metric) of an
   experiment of 100,000 runs, inserted into each store directly (untimed).

Run: ``python benchmarks/tracking.py`` (``make bench``). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # the sibling module, found through the line above
    WorkbenchServer,
    bench_env,
    fmt_ratio,
    fmt_time,
    goals_record,
    median,
    print_outcome,
    repeat,
    run_worker,
    table,
)

BACKENDS = ("workbench-http", "workbench-embedded", "mlflow")
WORKLOADS = ("log", "runs", "search", "history", "page")

N_PARAMS = 10
N_METRICS = 5
N_STEPS = 100
SEARCH_FILTER = "metrics.m0 > 0.5 and params.p0 = 'v3'"
SEARCH_ORDER = ["metrics.m1 DESC"]
HISTORY_KEY = "m0"
PAGE_FILTER = "metrics.m0 > 0.3 and params.p1 = 'b'"
PAGE_ORDER = ["metrics.m1 DESC"]
PAGE_SIZE = 50
PAGE_DEEP_OFFSET = 5000
CHUNK = 10_000

GOAL_LOGGING_X = 300
GOAL_READ_X = 10
GOAL_PAGE_S = 0.300


@dataclass(frozen=True)
class Sizes:
    log_calls: int
    mlflow_log_calls: int
    runs: int
    mlflow_runs: int
    search_repeats: int
    history_runs: int
    history_repeats: int
    page_runs: int
    page_repeats: int
    mlflow_page_repeats: int


def sizes(args: argparse.Namespace) -> Sizes:
    if args.quick:
        return Sizes(log_calls=1000, mlflow_log_calls=min(args.mlflow_sample, 100), runs=50,
                     mlflow_runs=min(args.mlflow_runs, 5), search_repeats=5, history_runs=10,
                     history_repeats=3, page_runs=5000, page_repeats=5, mlflow_page_repeats=2)
    return Sizes(log_calls=10_000, mlflow_log_calls=min(args.mlflow_sample, 10_000), runs=500,
                 mlflow_runs=min(args.mlflow_runs, 500), search_repeats=20, history_runs=50,
                 history_repeats=5, page_runs=100_000, page_repeats=20, mlflow_page_repeats=5)


# --- the data: the same on every backend -------------------------------------------------------


def log_values(n: int) -> list[float]:
    rng = random.Random(7)
    return [rng.random() for _ in range(n)]


def run_params(i: int) -> dict[str, str]:
    return {"p0": f"v{i % 10}", **{f"p{k}": f"{k}-{i % (k + 3)}" for k in range(1, N_PARAMS)}}


def run_values(i: int) -> list[list[float]]:
    """``[step][metric]`` values of run ``i``: seeded, so every backend logs the same numbers."""
    rng = random.Random(1000 + i)
    return [[rng.random() for _ in range(N_METRICS)] for _ in range(N_STEPS)]


def run_name(i: int) -> str:
    return f"run-{i:03d}"


def page_rows(n: int):
    """Chunks of the 100,000-run experiment: (name, start_time, params, metrics, tags) per run."""
    rng = random.Random(42)
    base = 1_700_000_000_000
    chunk = []
    for i in range(n):
        params = {"p0": f"lr-{rng.randint(1, 9)}", "p1": rng.choice("abcd"),
                  "p2": rng.choice(["xgb", "rf", "mlp"])}
        metrics = {"m0": rng.random(), "m1": rng.random(), "m2": rng.random()}
        tags = {"team": rng.choice(["growth", "search", "ads"])}
        chunk.append((f"r{i:06d}", base + i * 1000, params, metrics, tags))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- Workbench workers -------------------------------------------------------------------------


def wb_log(sz: Sizes) -> dict:
    import workbench as wb

    n = sz.log_calls
    values = log_values(n)
    wb.set_experiment("bench-log")
    run = wb.start_run(name="log-metric-calls")
    t0 = time.perf_counter()
    for step, value in enumerate(values):
        wb.log_metric("loss", value, step=step)
    loop = time.perf_counter() - t0
    wb.end_run()
    total = time.perf_counter() - t0
    stored = len(wb.get_metric_history(run.id, "loss"))
    return {"calls": n, "total_s": total, "per_call_s": total / n, "loop_s": loop, "stored": stored}


def wb_runs(sz: Sizes) -> dict:
    import workbench as wb

    n = sz.runs
    data = [(run_params(i), run_values(i)) for i in range(n)]
    wb.set_experiment("bench-runs")
    t0 = time.perf_counter()
    for i, (params, values) in enumerate(data):
        wb.start_run(name=run_name(i))
        wb.log_params(params)
        for step, row in enumerate(values):
            for j, value in enumerate(row):
                wb.log_metric(f"m{j}", value, step=step)
        wb.end_run()
    total = time.perf_counter() - t0
    frame = wb.search_runs(experiment="bench-runs")
    last = frame.loc[frame["name"] == run_name(n - 1), "run_id"].iloc[0]
    stored = len(wb.get_metric_history(last, f"m{N_METRICS - 1}"))
    return _runs_result(n, total, stored_runs=len(frame), stored_last=stored)


def _runs_result(n: int, total: float, **checks: int) -> dict:
    points = n * N_METRICS * N_STEPS
    return {"runs": n, "points": points, "total_s": total, "per_run_s": total / n,
            "per_point_s": total / points, **checks}


def wb_search(sz: Sizes) -> dict:
    import workbench as wb

    def search():
        return wb.search_runs(experiment="bench-runs", filter=SEARCH_FILTER, order_by=SEARCH_ORDER)

    wb.set_experiment("bench-runs")
    total_runs = len(wb.search_runs(experiment="bench-runs"))
    samples, frame = repeat(search, times=sz.search_repeats, warmup=1)
    names = list(frame["name"])
    return {"over_runs": total_runs, "median_s": median(samples), "min_s": min(samples), "n": len(samples),
            "matched": len(names), "names": names}


def wb_history(sz: Sizes) -> dict:
    import workbench as wb

    frame = wb.search_runs(experiment="bench-runs")
    by_name = dict(zip(frame["name"], frame["run_id"], strict=True))
    ids = [by_name[run_name(i)] for i in range(sz.history_runs)]
    lengths: list[int] = []

    def loop():
        lengths[:] = [len(wb.get_metric_history(rid, HISTORY_KEY)) for rid in ids]

    def bulk():
        # What a notebook does for many runs: one call, one request.
        frame = wb.get_metric_history(ids, HISTORY_KEY)
        lengths[:] = frame.groupby("run_id").size().tolist()

    samples, _ = repeat(bulk, times=sz.history_repeats, warmup=1)
    per_call, _ = repeat(loop, times=sz.history_repeats, warmup=1)
    out = {"runs": len(ids), "median_s": median(samples), "min_s": min(samples), "n": len(samples),
           "per_call_s": median(per_call) / len(ids), "loop_s": median(per_call),
           "points_each": sorted(set(lengths))}
    if os.environ.get("WORKBENCH_URL"):
        # The floor under every SDK call over HTTP: an authenticated request that does no work.
        from workbench.client import get_client

        out["round_trip_s"] = median(repeat(get_client().me, times=50, warmup=5)[0])
    return out


def wb_fill_page_experiment(store, experiment_id: int, n: int) -> float:
    """Insert ``n`` finished runs as the service would store them (untimed set-up)."""
    from sqlalchemy import select
    from sqlalchemy.dialects.sqlite import insert

    from workbench.store.tables import (
        ExperimentKeyRow,
        ExperimentRow,
        LatestMetricRow,
        MetricRow,
        ParamRow,
        RunRow,
        TagRow,
    )

    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        owner = conn.scalar(select(ExperimentRow.owner_id).where(ExperimentRow.id == experiment_id))
        used = (("param", ("p0", "p1", "p2")), ("metric", ("m0", "m1", "m2")), ("tag", ("team",)))
        keys = [{"experiment_id": experiment_id, "kind": kind, "key": k} for kind, ks in used for k in ks]
        conn.execute(insert(ExperimentKeyRow.__table__).on_conflict_do_nothing(), keys)
    for chunk in page_rows(n):
        runs, params, latest, points, tags = [], [], [], [], []
        for name, start, ps, ms, ts in chunk:
            rid = uuid.uuid4().hex
            runs.append({"id": rid, "experiment_id": experiment_id, "owner_id": owner, "name": name,
                         "status": "FINISHED", "start_time": start, "end_time": start + 60_000,
                         "heartbeat_at": start + 60_000, "kernel_id": None, "notebook_path": None,
                         "git_commit": None, "python_version": None, "packages": None, "source": None})
            params += [{"run_id": rid, "key": k, "value": v, "experiment_id": experiment_id}
                       for k, v in ps.items()]
            latest += [{"run_id": rid, "key": k, "value": v, "step": 0, "timestamp": start + 1000,
                        "experiment_id": experiment_id} for k, v in ms.items()]
            points += [{"run_id": rid, "key": k, "value": v, "step": 0, "timestamp": start + 1000}
                       for k, v in ms.items()]
            tags += [{"run_id": rid, "key": k, "value": v, "experiment_id": experiment_id}
                     for k, v in ts.items()]
        with store.engine.begin() as conn:
            conn.execute(RunRow.__table__.insert(), runs)
            conn.execute(ParamRow.__table__.insert(), params)
            conn.execute(LatestMetricRow.__table__.insert(), latest)
            conn.execute(MetricRow.__table__.insert(), points)
            conn.execute(TagRow.__table__.insert(), tags)
    return time.perf_counter() - t0


def wb_page(sz: Sizes, *, http: bool) -> dict:
    import workbench as wb
    from workbench import config, models
    from workbench.client import get_client
    from workbench.store import open_store

    exp = wb.set_experiment("bench-100k")
    store = open_store(os.environ["BENCH_SERVER_DB_URL"] if http else config.settings().db_url)
    setup = wb_fill_page_experiment(store, exp.id, sz.page_runs)

    def body(*, filtered: bool, offset: int) -> dict:
        return {"experiment_ids": [exp.id], "filter": PAGE_FILTER if filtered else "", "order_by": PAGE_ORDER,
                "max_results": PAGE_SIZE, "offset": offset, "include_total": True}

    if http:
        import requests

        session = requests.Session()
        url = os.environ["WORKBENCH_URL"].rstrip("/") + "/workbench/api/v1/runs/search"
        headers = {"Authorization": f"token {os.environ['WORKBENCH_TOKEN']}",
                   "Content-Type": "application/json"}

        def request(payload: dict) -> dict:
            resp = session.post(url, data=json.dumps(payload), headers=headers, timeout=120)
            resp.raise_for_status()
            return resp.json()
    else:
        client = get_client()

        def request(payload: dict) -> dict:
            return client.search_runs(models.RunsQuery(**payload)).model_dump(mode="json")

    out: dict = {"runs": sz.page_runs, "setup_s": setup}
    for label, payload in (("filtered", body(filtered=True, offset=0)),
                           ("deep", body(filtered=True, offset=PAGE_DEEP_OFFSET)),
                           ("unfiltered", body(filtered=False, offset=0))):
        samples, page = repeat(lambda p=payload: request(p), times=sz.page_repeats, warmup=2, budget_s=60)
        out[label] = {"median_s": median(samples), "min_s": min(samples), "n": len(samples),
                      "total": page["total"], "rows": len(page["runs"]),
                      "names": [r["info"]["name"] for r in page["runs"]]}
    return out


# --- MLflow workers ----------------------------------------------------------------------------


def _mlflow():
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(os.environ["BENCH_MLFLOW_URI"])
    return mlflow


def _mlflow_experiment(mlflow, name: str) -> str:
    """Experiment id; artifacts kept in the temp dir (MLflow's default is ./mlruns)."""
    existing = mlflow.get_experiment_by_name(name)
    if existing is None:
        root = Path(os.environ["BENCH_MLFLOW_ARTIFACTS"]) / name
        mlflow.create_experiment(name, artifact_location=root.as_uri())
    return mlflow.set_experiment(name).experiment_id


def mlflow_log(sz: Sizes) -> dict:
    mlflow = _mlflow()
    from mlflow.tracking import MlflowClient

    n = sz.mlflow_log_calls
    values = log_values(n)
    _mlflow_experiment(mlflow, "bench-log")
    run = mlflow.start_run(run_name="log-metric-calls")
    t0 = time.perf_counter()
    for step, value in enumerate(values):
        mlflow.log_metric("loss", value, step=step)
    loop = time.perf_counter() - t0
    mlflow.end_run()
    total = time.perf_counter() - t0
    stored = len(MlflowClient().get_metric_history(run.info.run_id, "loss"))
    return {"calls": n, "total_s": total, "per_call_s": total / n, "loop_s": loop, "stored": stored,
            "sampled": n < sz.log_calls}


def mlflow_runs(sz: Sizes) -> dict:
    mlflow = _mlflow()

    n = sz.mlflow_runs
    data = [(run_params(i), run_values(i)) for i in range(n)]
    _mlflow_experiment(mlflow, "bench-runs")
    t0 = time.perf_counter()
    for i, (params, values) in enumerate(data):
        mlflow.start_run(run_name=run_name(i))
        mlflow.log_params(params)
        for step, row in enumerate(values):
            for j, value in enumerate(row):
                mlflow.log_metric(f"m{j}", value, step=step)
        mlflow.end_run()
    total = time.perf_counter() - t0
    stored_runs = len(mlflow.search_runs(experiment_names=["bench-runs"]))
    return {**_runs_result(n, total, stored_runs=stored_runs), "sampled": n < sz.runs}


def mlflow_fill_search_experiment(mlflow, n: int) -> tuple[str, float]:
    """The search workload's runs, ``log_batch`` per run: set-up, untimed."""
    from mlflow.entities import Metric, Param, RunStatus
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    exp_id = _mlflow_experiment(mlflow, "bench-search")
    if len(client.search_runs([exp_id], max_results=n)) >= n:
        return exp_id, 0.0
    t0 = time.perf_counter()
    now = int(time.time() * 1000)
    for i in range(n):
        run = client.create_run(exp_id, run_name=run_name(i))
        metrics = [Metric(f"m{j}", value, now, step) for step, row in enumerate(run_values(i))
                   for j, value in enumerate(row)]
        params = [Param(k, v) for k, v in run_params(i).items()]
        client.log_batch(run.info.run_id, metrics=metrics, params=params)
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FINISHED))
    return exp_id, time.perf_counter() - t0


def mlflow_search(sz: Sizes) -> dict:
    mlflow = _mlflow()
    exp_id, setup = mlflow_fill_search_experiment(mlflow, sz.runs)

    def search():
        return mlflow.search_runs(experiment_ids=[exp_id], filter_string=SEARCH_FILTER, order_by=SEARCH_ORDER)

    total_runs = len(mlflow.search_runs(experiment_ids=[exp_id]))
    samples, frame = repeat(search, times=sz.search_repeats, warmup=1)
    names = list(frame["tags.mlflow.runName"])
    return {"over_runs": total_runs, "median_s": median(samples), "min_s": min(samples), "n": len(samples),
            "matched": len(names), "names": names, "setup_s": setup}


def mlflow_history(sz: Sizes) -> dict:
    mlflow = _mlflow()
    from mlflow.tracking import MlflowClient

    exp_id, _ = mlflow_fill_search_experiment(mlflow, sz.runs)
    frame = mlflow.search_runs(experiment_ids=[exp_id])
    by_name = dict(zip(frame["tags.mlflow.runName"], frame["run_id"], strict=True))
    ids = [by_name[run_name(i)] for i in range(sz.history_runs)]
    client = MlflowClient()
    lengths: list[int] = []

    def loop():
        lengths[:] = [len(client.get_metric_history(rid, HISTORY_KEY)) for rid in ids]

    samples, _ = repeat(loop, times=sz.history_repeats, warmup=1)
    return {"runs": len(ids), "median_s": median(samples), "min_s": min(samples), "n": len(samples),
            "per_call_s": median(samples) / len(ids), "loop_s": median(samples), "points_each": sorted(set(lengths))}


def mlflow_fill_page_experiment(exp_id: str, n: int) -> float:
    """Insert ``n`` runs into MLflow's own tables, as its store writes them (untimed set-up)."""
    from sqlalchemy import MetaData, create_engine

    t0 = time.perf_counter()
    engine = create_engine(os.environ["BENCH_MLFLOW_URI"])
    meta = MetaData()
    meta.reflect(engine, only=["runs", "params", "metrics", "latest_metrics", "tags"])
    t = meta.tables
    artifacts = (Path(os.environ["BENCH_MLFLOW_ARTIFACTS"]) / "bench-100k").as_uri()
    for chunk in page_rows(n):
        runs, params, latest, points, tags = [], [], [], [], []
        for name, start, ps, ms, ts in chunk:
            rid = uuid.uuid4().hex
            runs.append({"run_uuid": rid, "name": name, "source_type": "LOCAL", "source_name": "",
                         "entry_point_name": "", "user_id": "bench", "status": "FINISHED",
                         "start_time": start, "end_time": start + 60_000, "source_version": "",
                         "lifecycle_stage": "active",
                         "artifact_uri": f"{artifacts}/{rid}/artifacts", "experiment_id": int(exp_id),
                         "deleted_time": None})
            params += [{"run_uuid": rid, "key": k, "value": v} for k, v in ps.items()]
            latest += [{"run_uuid": rid, "key": k, "value": v, "timestamp": start + 1000, "step": 0,
                        "is_nan": False} for k, v in ms.items()]
            points += [{"run_uuid": rid, "key": k, "value": v, "timestamp": start + 1000, "step": 0,
                        "is_nan": False} for k, v in ms.items()]
            tags += [{"run_uuid": rid, "key": k, "value": v}
                     for k, v in {**ts, "mlflow.runName": name, "mlflow.user": "bench"}.items()]
        with engine.begin() as conn:
            conn.execute(t["runs"].insert(), runs)
            conn.execute(t["params"].insert(), params)
            conn.execute(t["latest_metrics"].insert(), latest)
            conn.execute(t["metrics"].insert(), points)
            conn.execute(t["tags"].insert(), tags)
    engine.dispose()
    return time.perf_counter() - t0


def mlflow_page(sz: Sizes) -> dict:
    mlflow = _mlflow()
    exp_id = _mlflow_experiment(mlflow, "bench-100k")
    setup = mlflow_fill_page_experiment(exp_id, sz.page_runs)

    def page():
        return mlflow.search_runs(experiment_ids=[exp_id], filter_string=PAGE_FILTER, order_by=PAGE_ORDER,
                                  max_results=PAGE_SIZE)

    # At 100,000 runs one MLflow call can take minutes: a first call past the budget is the sample.
    samples, frame = repeat(page, times=sz.mlflow_page_repeats, warmup=1, budget_s=60)
    names = list(frame["tags.mlflow.runName"])
    return {"runs": sz.page_runs, "setup_s": setup,
            "filtered": {"median_s": median(samples), "min_s": min(samples), "n": len(samples), "total": None,
                         "rows": len(names), "names": names}}


WORKERS = {
    ("workbench-http", "log"): wb_log, ("workbench-embedded", "log"): wb_log, ("mlflow", "log"): mlflow_log,
    ("workbench-http", "runs"): wb_runs, ("workbench-embedded", "runs"): wb_runs,
    ("mlflow", "runs"): mlflow_runs,
    ("workbench-http", "search"): wb_search, ("workbench-embedded", "search"): wb_search,
    ("mlflow", "search"): mlflow_search,
    ("workbench-http", "history"): wb_history, ("workbench-embedded", "history"): wb_history,
    ("mlflow", "history"): mlflow_history,
    ("workbench-http", "page"): lambda sz: wb_page(sz, http=True),
    ("workbench-embedded", "page"): lambda sz: wb_page(sz, http=False),
    ("mlflow", "page"): mlflow_page,
}  # fmt: skip


def worker_main(args: argparse.Namespace) -> None:
    result = WORKERS[(args.worker, args.workload)](sizes(args))
    Path(args.out).write_text(json.dumps(result))


# --- the parent: start things, run workers, print ----------------------------------------------


def versions() -> dict[str, str]:
    import importlib.metadata
    import platform
    import sqlite3

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    sys.path[:0] = [p for p in bench_env()["PYTHONPATH"].split(os.pathsep) if p not in sys.path]
    import workbench

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"workbench": workbench.__version__, "mlflow": version("mlflow"), "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": version("sqlalchemy"), "jupyter_server": version("jupyter_server"),
            "python": platform.python_version(), "cpu": cpu, "cores": str(os.cpu_count())}


def report(res: dict[tuple[str, str], dict], sz: Sizes) -> tuple[str, list[tuple[str, str, bool | None]]]:
    def get(backend: str, workload: str, *path: str) -> float | None:
        value = res.get((backend, workload), {})
        for p in path:
            value = value.get(p) if isinstance(value, dict) else None
        return value  # type: ignore[return-value]

    def row(label: str, workload: str, *path: str, per: str = "") -> list[str]:
        h, e, m = (get(b, workload, *path) for b in BACKENDS)
        return [label, fmt_time(h), fmt_time(e), fmt_time(m) + per, fmt_ratio(m, h), fmt_ratio(m, e)]

    rows: list[list[str]] = []
    ml_log = res.get(("mlflow", "log"), {})
    sampled = f" (sampled: {ml_log.get('calls', '?'):,} calls)" if ml_log.get("sampled") else ""
    rows.append([f"1. log_metric x{sz.log_calls:,}, total to durable"]
                + [fmt_time(get(b, "log", "total_s")) for b in BACKENDS[:2]]
                + [(fmt_time((get("mlflow", "log", "per_call_s") or 0) * sz.log_calls) + " extrapolated"
                    if ml_log.get("sampled") else fmt_time(get("mlflow", "log", "total_s")))]
                + [fmt_ratio((get("mlflow", "log", "per_call_s") or 0) * sz.log_calls,
                             get(b, "log", "total_s")) for b in BACKENDS[:2]])
    rows.append(row(f"   per call{sampled}", "log", "per_call_s"))
    rows.append(row("   loop only (calls returned, before end_run)", "log", "loop_s"))
    ml_runs = res.get(("mlflow", "runs"), {})
    sampled = f" (sampled: {ml_runs.get('runs', '?')} runs)" if ml_runs.get("sampled") else ""
    rows.append([f"2. {sz.runs} runs x ({N_PARAMS} params, {N_METRICS}x{N_STEPS} points), total"]
                + [fmt_time(get(b, "runs", "total_s")) for b in BACKENDS[:2]]
                + [(fmt_time((get("mlflow", "runs", "per_run_s") or 0) * sz.runs) + " extrapolated"
                    if ml_runs.get("sampled") else fmt_time(get("mlflow", "runs", "total_s")))]
                + [fmt_ratio((get("mlflow", "runs", "per_run_s") or 0) * sz.runs, get(b, "runs", "total_s"))
                   for b in BACKENDS[:2]])
    rows.append(row(f"   per run{sampled}", "runs", "per_run_s"))
    rows.append(row("   per metric point", "runs", "per_point_s"))
    rows.append(row(f"3. search_runs over {sz.runs} runs (filter + order, median of {sz.search_repeats})",
                    "search", "median_s"))
    rows.append(row(f"4. metric history of {sz.history_runs} runs (workbench: one bulk call; mlflow: a loop; "
                    f"median of {sz.history_repeats})", "history", "median_s"))
    rows.append(row("   workbench as a loop of single-run calls", "history", "loop_s"))
    rows.append(row("   per get_metric_history call", "history", "per_call_s"))
    rows.append(row("   HTTP round trip that does no work (GET /me)", "history", "round_trip_s"))
    n_ml = get("mlflow", "page", "filtered", "n")
    rows.append(row(f"5. runs-table page, {sz.page_runs:,} runs: filtered + sorted, first {PAGE_SIZE}"
                    f" (median of {sz.page_repeats}; mlflow: {n_ml or '-'} timed)",
                    "page", "filtered", "median_s"))
    rows.append(row(f"   same, offset {PAGE_DEEP_OFFSET:,} (workbench only)", "page", "deep", "median_s"))
    rows.append(row("   unfiltered, sorted by metrics.m1 (workbench only)", "page", "unfiltered", "median_s"))
    header = ["workload", "workbench-http", "workbench-embedded", "mlflow (sqlite)", "mlflow/http",
              "mlflow/embedded"]
    text = table(header, rows)

    goals: list[tuple[str, str, bool | None]] = []

    def ratio(workload: str, *path: str, backend: str) -> float | None:
        ours, ref = get(backend, workload, *path), get("mlflow", workload, *path)
        return ref / ours if ours and ref else None

    for backend in BACKENDS[:2]:
        for label, workload, path in ((f"log_metric x{sz.log_calls:,}, per call", "log", ("per_call_s",)),
                                      (f"{sz.runs} runs, per metric point", "runs", ("per_point_s",))):
            r = ratio(workload, *path, backend=backend)
            goals.append((f"logging >= {GOAL_LOGGING_X}x MLflow per point ({label}), {backend}",
                          "-" if r is None else f"{r:,.0f}x", None if r is None else r >= GOAL_LOGGING_X))
        for label, workload, path in (("search_runs", "search", ("median_s",)),
                                      ("metric history", "history", ("median_s",))):
            r = ratio(workload, *path, backend=backend)
            goals.append((f"{label} >= {GOAL_READ_X}x faster than MLflow, {backend}",
                          "-" if r is None else f"{r:,.1f}x", None if r is None else r >= GOAL_READ_X))
        page = get(backend, "page", "filtered", "median_s")
        goals.append((f"{sz.page_runs:,}-run page < {GOAL_PAGE_S * 1000:.0f} ms, {backend}", fmt_time(page),
                      None if page is None else page < GOAL_PAGE_S))
    return text, goals


def checks(res: dict[tuple[str, str], dict], sz: Sizes) -> list[str]:
    """Sanity lines: everything stored, and the backends found the same runs."""
    lines = []
    for b in BACKENDS:
        log = res.get((b, "log"), {})
        if "stored" in log:
            lines.append(f"{b}: log stored {log['stored']:,} of {log['calls']:,} points")
    search = {b: res.get((b, "search"), {}) for b in BACKENDS}
    if all("names" in s for s in search.values()):
        same = len({tuple(s["names"]) for s in search.values()}) == 1
        ml = search["mlflow"]
        lines.append(f"search: {ml['matched']} of {ml['over_runs']} runs matched; "
                     f"same runs in the same order on every backend: {'yes' if same else 'NO'}")
    pages = {b: res.get((b, "page"), {}).get("filtered", {}) for b in BACKENDS}
    if all("names" in p for p in pages.values()):
        same = len({tuple(p["names"]) for p in pages.values()}) == 1
        total = pages["workbench-embedded"].get("total")
        lines.append(f"page: {total:,} of {sz.page_runs:,} runs match the filter; first {PAGE_SIZE} rows "
                     f"identical on every backend: {'yes' if same else 'NO'}")
    for b in BACKENDS:
        setup = res.get((b, "page"), {}).get("setup_s")
        if setup is not None:
            lines.append(f"{b}: inserting the {sz.page_runs:,} runs (untimed set-up) took {setup:.1f} s")
    setup = res.get(("mlflow", "search"), {}).get("setup_s")
    if setup:
        lines.append(f"mlflow: creating the {sz.runs} search runs with log_batch (untimed set-up) "
                     f"took {setup:.1f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in about a minute")
    parser.add_argument("--mlflow-sample", type=int, default=1000,
                        help="log_metric calls timed for MLflow (its total is extrapolated); default 1000")
    parser.add_argument("--mlflow-runs", type=int, default=20,
                        help="runs of the second workload timed for MLflow (extrapolated); default 20")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset of " +
                        ", ".join(WORKLOADS) + " (later ones reuse the runs of 'runs')")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (stores, server log)")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=WORKLOADS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return

    sz = sizes(args)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="wb-bench-tracking-"))
    server = WorkbenchServer(tmp / "http-root", tmp / "wb-http")
    info = versions()
    print(f"Tracking benchmark{' (--quick)' if args.quick else ''}: {info['cores']} cores, {info['cpu']}; "
          f"workbench {info['workbench']}, mlflow {info['mlflow']}, SQLite {info['sqlite']}, "
          f"Python {info['python']}", flush=True)
    results: dict[tuple[str, str], dict] = {}
    try:
        server.start()
        print(f"workbench server up at {server.url} ({time.perf_counter() - started:.1f} s)", flush=True)
        envs = {
            "workbench-http": bench_env(WORKBENCH_URL=server.url, WORKBENCH_TOKEN=server.token,
                                        WORKBENCH_HOME=str(tmp / "wb-http-client"),
                                        BENCH_SERVER_DB_URL=server.db_url),
            "workbench-embedded": bench_env(WORKBENCH_HOME=str(tmp / "wb-emb")),
            "mlflow": bench_env(BENCH_MLFLOW_URI=f"sqlite:///{tmp / 'mlflow.db'}",
                                BENCH_MLFLOW_ARTIFACTS=str(tmp / "mlflow-artifacts"),
                                MLFLOW_DISABLE_TELEMETRY="true"),
        }
        flags = ["--mlflow-sample", str(args.mlflow_sample), "--mlflow-runs", str(args.mlflow_runs)]
        flags += ["--quick"] if args.quick else []
        for workload in [w.strip() for w in args.workloads.split(",") if w.strip()]:
            for backend in BACKENDS:
                out = tmp / f"{backend}-{workload}.json"
                worker_args = ["--worker", backend, "--workload", workload, *flags]
                res = run_worker(Path(__file__).resolve(), worker_args, envs[backend], out, cwd=tmp)
                results[(backend, workload)] = res
                status = res.get("error", "ok")
                print(f"  {workload:<8} {backend:<19} {res['wall_s']:6.1f} s  {status}", flush=True)
    finally:
        server.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    text, goals = report(results, sz)
    elapsed = print_outcome(text, checks(results, sz), goals, started)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "versions": info, "sizes": asdict(sz), "elapsed_s": elapsed,
            "results": {f"{b}/{w}": r for (b, w), r in results.items()},
            "goals": goals_record(goals),
        }, indent=2))
    if any("error" in r for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
