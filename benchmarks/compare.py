"""Compare-view benchmark: the payload of the Compare view through Workbench, against the same
comparison done by hand with MLflow, side by side.

Workload: an experiment of 1,000 runs, each with 4 params, 1 tag and 3 metrics logged for 100
steps (300,000 points), then the same for 10,000 runs (3,000,000 points). The runs are
inserted into each store's own tables directly (set-up, untimed), the same seeded values
everywhere. Then, timed (median of 3 after a warm-up; 2 at 10,000 runs):

* ``workbench-embedded``: ``build_comparison`` (runs, params, latest metrics, tags and every
  curve, downsampled on the server to 300,000 points) + ``compare_view`` (the Bokeh document of
  every view) + ``json_item`` + JSON text: what ``POST /compare`` sends, made in-process.
* ``workbench-http``: ``POST /workbench/api/v1/compare`` to a live Jupyter server with the
  Workbench extension, timed until the JSON reply is decoded.
* ``mlflow``: the same data by hand with MLflow 3 on SQLite: ``mlflow.search_runs`` (params,
  latest metrics, tags) + ``MlflowClient().get_metric_history`` per run per metric, into
  arrays of steps, timestamps and values per curve. No chart: MLflow has no compare payload
  to build. At 10,000 runs ``search_runs`` is timed whole and the histories on 1,000 runs,
  extrapolated (30,000 calls would take minutes).
* ``browser`` (``--browser``): the embedded payload as a standalone page (BokehJS inline)
  opened in Debian's Chromium (headless, software WebGL), timed until Bokeh reports the
  document idle. Skipped when Playwright or Chromium is missing.

Run: ``python benchmarks/compare.py`` (``--quick``: 200 and 1,000 runs). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
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

BACKENDS = ("workbench-http", "workbench-embedded", "mlflow", "browser")
METRICS = ("acc", "loss", "val_loss")
STEPS = 100
CHUNK = 1000
MLFLOW_HISTORY_SAMPLE = 1000
GOALS_S = {1_000: 1.0, 10_000: 5.0}
CHROMIUM = "/usr/bin/chromium"
T0 = 1_700_000_000_000


def sizes(quick: bool) -> tuple[int, int]:
    return (200, 1_000) if quick else (1_000, 10_000)


# --- the data: the same on every backend -------------------------------------------------------


def run_rows(n: int):
    """Chunks of runs: (name, start_time, params, tags, {metric: [values by step]})."""
    chunk = []
    for i in range(n):
        rng = random.Random(1000 + i)
        lr = rng.choice([0.1, 0.03, 0.01, 0.003, 0.001])
        params = {"lr": str(lr), "batch_size": str(rng.choice([32, 64, 128])),
                  "optimizer": rng.choice(["adam", "sgd", "rmsprop"]), "dropout": f"{rng.uniform(0, 0.5):.2f}"}
        rate = 0.02 + 20 * lr * rng.uniform(0.5, 1.5)
        loss = [math.exp(-rate * s) + 0.05 * rng.random() for s in range(STEPS)]
        metrics = {"loss": loss, "val_loss": [v * 1.1 + 0.05 * rng.random() for v in loss],
                   "acc": [1 - v / 2 + 0.02 * rng.random() for v in loss]}
        chunk.append((f"run-{i:05d}", T0 + i * 60_000, params, {"team": rng.choice(["growth", "search"])}, metrics))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def wb_fill(store, experiment_id: int, n: int) -> tuple[list[str], float]:
    """Insert ``n`` finished runs as the tracking service stores them (untimed set-up)."""
    from sqlalchemy import select

    from workbench.store.tables import (
        ExperimentKeyRow,
        ExperimentRow,
        LatestMetricRow,
        MetricRow,
        ParamRow,
        RunRow,
        TagRow,
    )
    from workbench.store.upsert import insert_ignore

    t0 = time.perf_counter()
    ids: list[str] = []
    with store.session() as s:
        owner = s.scalar(select(ExperimentRow.owner_id).where(ExperimentRow.id == experiment_id))
        keys = [("param", k) for k in ("lr", "batch_size", "optimizer", "dropout")]
        keys += [("metric", k) for k in METRICS] + [("tag", "team")]
        insert_ignore(s, ExperimentKeyRow.__table__,
                      [{"experiment_id": experiment_id, "kind": kind, "key": k} for kind, k in keys])
    for chunk in run_rows(n):
        runs, params, latest, points, tags = [], [], [], [], []
        for name, start, ps, ts, ms in chunk:
            rid = uuid.uuid4().hex
            ids.append(rid)
            runs.append({"id": rid, "experiment_id": experiment_id, "owner_id": owner, "name": name,
                         "status": "FINISHED", "start_time": start, "end_time": start + STEPS * 1000,
                         "heartbeat_at": start + STEPS * 1000, "kernel_id": None, "notebook_path": None,
                         "git_commit": None, "python_version": None, "packages": None, "source": None})
            params += [{"run_id": rid, "key": k, "value": v, "experiment_id": experiment_id} for k, v in ps.items()]
            tags += [{"run_id": rid, "key": k, "value": v, "experiment_id": experiment_id} for k, v in ts.items()]
            # Stored step by step, the metrics interleaved, as a training loop logs them.
            points += [{"run_id": rid, "key": key, "value": ms[key][st], "step": st, "timestamp": start + st * 1000}
                       for st in range(STEPS) for key in METRICS]
            latest += [{"run_id": rid, "key": key, "value": ms[key][-1], "step": STEPS - 1,
                        "timestamp": start + (STEPS - 1) * 1000, "experiment_id": experiment_id} for key in METRICS]
        with store.engine.begin() as conn:
            conn.execute(RunRow.__table__.insert(), runs)
            conn.execute(ParamRow.__table__.insert(), params)
            conn.execute(LatestMetricRow.__table__.insert(), latest)
            conn.execute(MetricRow.__table__.insert(), points)
            conn.execute(TagRow.__table__.insert(), tags)
    return ids, time.perf_counter() - t0


def _times(n: int) -> int:
    return 2 if n > 2000 else 3


# --- Workbench workers ---------------------------------------------------------------------------


def wb_embedded(n: int, out_dir: Path) -> dict:
    from bokeh.embed import json_item

    from workbench import config
    from workbench.reports.compare import build_comparison
    from workbench.reports.render import page_html
    from workbench.reports.views import compare_view
    from workbench.store import open_store
    from workbench.tenancy import Tenancy
    from workbench.tracking.service import Tracking

    settings = config.settings()
    store = open_store(settings.db_url)
    user = Tenancy(store).local_user(settings.user)
    tracking = Tracking(store)
    exp = tracking.create_experiment(user, f"bench-compare-{n}")
    ids, setup = wb_fill(store, exp.id, n)
    parts: dict[str, list[float]] = {"read": [], "view": [], "item": [], "json": []}
    result: dict = {}

    def payload() -> str:
        t0 = time.perf_counter()
        cmp = build_comparison(tracking, user, ids)
        t1 = time.perf_counter()
        view = compare_view(cmp)
        t2 = time.perf_counter()
        item = json_item(view)
        t3 = time.perf_counter()
        text = json.dumps({"run_count": len(cmp.runs), "metrics": cmp.metrics, "downsampled": cmp.downsampled,
                           "item": item})
        t4 = time.perf_counter()
        for key, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            parts[key].append(seconds)
        result.update(runs=len(cmp.runs), logged=cmp.logged_points, kept=cmp.point_count,
                      downsampled=cmp.downsampled, item=item)
        return text

    samples, text = repeat(payload, times=_times(n), warmup=1)
    page = out_dir / f"compare-{n}.html"
    page.write_text(page_html(result.pop("item"), title=f"{n:,} runs", bokeh_js="inline"))
    return {"runs": result["runs"], "median_s": median(samples), "min_s": min(samples), "n": len(samples),
            "setup_s": setup, "bytes": len(text), "logged_points": result["logged"], "kept_points": result["kept"],
            "downsampled": result["downsampled"], "page": str(page), "page_bytes": page.stat().st_size,
            **{f"{k}_s": median(v[-len(samples):]) for k, v in parts.items()}}


def wb_http(n: int, _out_dir: Path) -> dict:
    import requests

    from workbench.store import open_store

    base = os.environ["WORKBENCH_URL"].rstrip("/") + "/workbench/api/v1"
    session = requests.Session()
    session.headers.update({"Authorization": f"token {os.environ['WORKBENCH_TOKEN']}",
                            "Content-Type": "application/json"})
    resp = session.post(base + "/experiments", data=json.dumps({"name": f"bench-compare-{n}", "exist_ok": True}),
                        timeout=60)
    resp.raise_for_status()
    ids, setup = wb_fill(open_store(os.environ["BENCH_SERVER_DB_URL"]), resp.json()["id"], n)
    body = json.dumps({"run_ids": ids})
    found: dict = {}

    def request() -> dict:
        reply = session.post(base + "/compare", data=body, timeout=600)
        reply.raise_for_status()
        view = reply.json()
        found.update(runs=view["run_count"], downsampled=view["downsampled"], bytes=len(reply.content))
        return view

    samples, _ = repeat(request, times=_times(n), warmup=1)
    return {"runs": found["runs"], "median_s": median(samples), "min_s": min(samples), "n": len(samples),
            "setup_s": setup, "bytes": found["bytes"], "downsampled": found["downsampled"]}


# --- MLflow worker -------------------------------------------------------------------------------


def mlflow_fill(exp_id: str, n: int) -> float:
    """Insert ``n`` runs into MLflow's own tables, as its SQL store writes them (untimed set-up)."""
    from sqlalchemy import MetaData, create_engine

    t0 = time.perf_counter()
    engine = create_engine(os.environ["BENCH_MLFLOW_URI"])
    meta = MetaData()
    meta.reflect(engine, only=["runs", "params", "metrics", "latest_metrics", "tags"])
    t = meta.tables
    artifacts = (Path(os.environ["BENCH_MLFLOW_ARTIFACTS"]) / "compare").as_uri()
    for chunk in run_rows(n):
        runs, params, latest, points, tags = [], [], [], [], []
        for name, start, ps, ts, ms in chunk:
            rid = uuid.uuid4().hex
            runs.append({"run_uuid": rid, "name": name, "source_type": "LOCAL", "source_name": "",
                         "entry_point_name": "", "user_id": "bench", "status": "FINISHED", "start_time": start,
                         "end_time": start + STEPS * 1000, "source_version": "", "lifecycle_stage": "active",
                         "artifact_uri": f"{artifacts}/{rid}/artifacts", "experiment_id": int(exp_id),
                         "deleted_time": None})
            params += [{"run_uuid": rid, "key": k, "value": v} for k, v in ps.items()]
            tags += [{"run_uuid": rid, "key": k, "value": v}
                     for k, v in {**ts, "mlflow.runName": name, "mlflow.user": "bench"}.items()]
            points += [{"run_uuid": rid, "key": key, "value": ms[key][st], "timestamp": start + st * 1000,
                        "step": st, "is_nan": False} for st in range(STEPS) for key in METRICS]
            latest += [{"run_uuid": rid, "key": key, "value": ms[key][-1], "timestamp": start + (STEPS - 1) * 1000,
                        "step": STEPS - 1, "is_nan": False} for key in METRICS]
        with engine.begin() as conn:
            conn.execute(t["runs"].insert(), runs)
            conn.execute(t["params"].insert(), params)
            conn.execute(t["latest_metrics"].insert(), latest)
            conn.execute(t["metrics"].insert(), points)
            conn.execute(t["tags"].insert(), tags)
    engine.dispose()
    return time.perf_counter() - t0


def mlflow_compare(n: int, _out_dir: Path) -> dict:
    import logging

    import mlflow
    import numpy as np
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(os.environ["BENCH_MLFLOW_URI"])
    name = f"bench-compare-{n}"
    root = Path(os.environ["BENCH_MLFLOW_ARTIFACTS"]) / name
    exp_id = mlflow.create_experiment(name, artifact_location=root.as_uri())
    setup = mlflow_fill(exp_id, n)
    client = MlflowClient()
    sample = min(n, MLFLOW_HISTORY_SAMPLE)
    found: dict = {}

    def by_hand():
        t0 = time.perf_counter()
        frame = mlflow.search_runs(experiment_ids=[exp_id], max_results=100_000)
        t1 = time.perf_counter()
        curves = {}
        for run_id in list(frame["run_id"])[:sample]:
            for key in METRICS:
                history = client.get_metric_history(run_id, key)
                curves[(run_id, key)] = (np.array([m.step for m in history]), np.array([m.timestamp for m in history]),
                                         np.array([m.value for m in history]))
        t2 = time.perf_counter()
        found.update(runs=len(frame), points=sum(len(c[0]) for c in curves.values()), search_s=t1 - t0,
                     histories_s=t2 - t1)
        return t1 - t0 + (t2 - t1) * n / sample  # extrapolated to every run when sampled

    samples, _ = repeat(by_hand, times=_times(n) if n <= MLFLOW_HISTORY_SAMPLE else 1, warmup=0)
    return {"runs": found["runs"], "median_s": median(samples), "min_s": min(samples), "n": len(samples),
            "setup_s": setup, "search_s": found["search_s"], "histories_s": found["histories_s"],
            "history_runs": sample, "points": found["points"], "extrapolated": sample < n,
            "per_history_s": found["histories_s"] / (sample * len(METRICS))}


# --- browser worker ------------------------------------------------------------------------------


def browser_open(n: int, out_dir: Path) -> dict:
    page = out_dir / f"compare-{n}.html"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "Playwright is not installed"}
    if not Path(CHROMIUM).exists():
        return {"skipped": f"no Chromium at {CHROMIUM}"}
    if not page.exists():
        return {"skipped": "no page: the workbench-embedded worker did not write it"}
    samples = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--use-gl=swiftshader",
                                                                     "--enable-unsafe-swiftshader"])
        for _ in range(2):
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            tab.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            t0 = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="commit", timeout=300_000)
            tab.wait_for_function("window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle",
                                  timeout=300_000, polling=100)
            samples.append(time.perf_counter() - t0)
            if errors:
                return {"error": f"page errors: {errors[:3]}"}
            tab.close()
        browser.close()
    return {"median_s": median(samples), "min_s": min(samples), "n": len(samples), "page_bytes": page.stat().st_size}


WORKERS = {"workbench-embedded": wb_embedded, "workbench-http": wb_http, "mlflow": mlflow_compare,
           "browser": browser_open}


def worker_main(args: argparse.Namespace) -> None:
    result = WORKERS[args.worker](args.runs, Path(args.dir))
    Path(args.out).write_text(json.dumps(result))


# --- the parent: start things, run workers, print ------------------------------------------------


def report(res: dict[tuple[str, int], dict], ns: tuple[int, ...]) -> tuple[str, list[tuple[str, str, bool | None]]]:
    def get(backend: str, n: int, key: str):
        return res.get((backend, n), {}).get(key)

    rows = []
    for n in ns:
        h, e, m = (get(b, n, "median_s") for b in BACKENDS[:3])
        extrapolated = " extrapolated" if get("mlflow", n, "extrapolated") else ""
        rows.append([f"{n:,} runs x 3 metrics x {STEPS} steps: compare payload", fmt_time(h), fmt_time(e),
                     fmt_time(m) + extrapolated, fmt_ratio(m, h), fmt_ratio(m, e)])
        rows.append(["   read + downsample (build_comparison)", "", fmt_time(get("workbench-embedded", n, "read_s")),
                     f"search_runs {fmt_time(get('mlflow', n, 'search_s'))}", "", ""])
        hist_runs = get("mlflow", n, "history_runs")
        rows.append(["   Bokeh document (compare_view)", "", fmt_time(get("workbench-embedded", n, "view_s")),
                     f"{(hist_runs or 0) * len(METRICS):,} histories {fmt_time(get('mlflow', n, 'histories_s'))}",
                     "", ""])
        rows.append(["   json_item + JSON text", "",
                     fmt_time((get("workbench-embedded", n, "item_s") or 0) + (get("workbench-embedded", n, "json_s") or 0)),
                     f"per history {fmt_time(get('mlflow', n, 'per_history_s'))}", "", ""])
        kept, logged = get("workbench-embedded", n, "kept_points"), get("workbench-embedded", n, "logged_points")
        size = get("workbench-http", n, "bytes") or get("workbench-embedded", n, "bytes")
        rows.append(["   points drawn / logged; reply size", "",
                     f"{kept or 0:,} / {logged or 0:,}; {(size or 0) / 1e6:.1f} MB", "", "", ""])
        browser = res.get(("browser", n), {})
        shown = browser.get("skipped") or browser.get("error") or fmt_time(browser.get("median_s"))
        rows.append(["   page opened in Chromium (inline BokehJS, software WebGL) until idle", "", shown, "", "", ""])
    header = ["workload", "workbench-http", "workbench-embedded", "mlflow by hand (sqlite)", "mlflow/http",
              "mlflow/embedded"]
    goals = []
    for n in ns:
        goal = GOALS_S.get(n)
        if goal is None:
            continue
        for backend in BACKENDS[:2]:
            seconds = get(backend, n, "median_s")
            goals.append((f"{n:,} runs < {goal:.0f} s, {backend}", fmt_time(seconds),
                          None if seconds is None else seconds < goal))
    return table(header, rows), goals


def checks(res: dict[tuple[str, int], dict], ns: tuple[int, ...]) -> list[str]:
    lines = []
    for n in ns:
        wb = res.get(("workbench-embedded", n), {})
        http = res.get(("workbench-http", n), {})
        ml = res.get(("mlflow", n), {})
        if "runs" in wb and "runs" in ml:
            per_run = ml["points"] / max(1, ml["history_runs"])
            lines.append(f"{n:,} runs: workbench compared {wb['runs']:,} runs ({wb['logged_points']:,} points logged, "
                         f"{wb['kept_points']:,} drawn{', downsampled' if wb['downsampled'] else ''}); over HTTP "
                         f"{http.get('runs', '?'):,} runs; mlflow found {ml['runs']:,} runs, {per_run:.0f} points "
                         f"per run in {ml['history_runs']:,} runs' histories")
        for backend in ("workbench-embedded", "workbench-http", "mlflow"):
            setup = res.get((backend, n), {}).get("setup_s")
            if setup is not None:
                lines.append(f"  {backend}: inserting the {n:,} runs (untimed set-up) took {setup:.1f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 and 1,000 runs: a smoke run")
    parser.add_argument("--browser", action="store_true", help="also time opening each page in Chromium")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (stores, pages, server log)")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return

    from tracking import versions  # the sibling script: same version line as the tracking benchmark

    ns = sizes(args.quick)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="wb-bench-compare-"))
    server = WorkbenchServer(tmp / "http-root", tmp / "wb-http")
    info = versions()
    print(f"Compare benchmark{' (--quick)' if args.quick else ''}: {info['cores']} cores, {info['cpu']}; "
          f"workbench {info['workbench']}, mlflow {info['mlflow']}, SQLite {info['sqlite']}, "
          f"Python {info['python']}", flush=True)
    results: dict[tuple[str, int], dict] = {}
    try:
        server.start()
        print(f"workbench server up at {server.url} ({time.perf_counter() - started:.1f} s)", flush=True)
        for n in ns:
            envs = {
                "workbench-http": bench_env(WORKBENCH_URL=server.url, WORKBENCH_TOKEN=server.token,
                                            WORKBENCH_HOME=str(tmp / "wb-http-client"),
                                            BENCH_SERVER_DB_URL=server.db_url),
                "workbench-embedded": bench_env(WORKBENCH_HOME=str(tmp / f"wb-emb-{n}")),
                "mlflow": bench_env(BENCH_MLFLOW_URI=f"sqlite:///{tmp / f'mlflow-{n}.db'}",
                                    BENCH_MLFLOW_ARTIFACTS=str(tmp / "mlflow-artifacts"),
                                    MLFLOW_DISABLE_TELEMETRY="true"),
                "browser": bench_env(),
            }
            for backend in BACKENDS:
                if backend == "browser" and not args.browser:
                    continue
                out = tmp / f"{backend}-{n}.json"
                worker_args = ["--worker", backend, "--runs", str(n), "--dir", str(tmp)]
                res = run_worker(Path(__file__).resolve(), worker_args, envs[backend], out, cwd=tmp)
                results[(backend, n)] = res
                status = res.get("error") or res.get("skipped") or "ok"
                print(f"  {n:>6,} runs  {backend:<19} {res['wall_s']:6.1f} s  {status}", flush=True)
    finally:
        server.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    text, goals = report(results, ns)
    elapsed = print_outcome(text, checks(results, ns), goals, started)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "versions": info, "sizes": list(ns), "elapsed_s": elapsed,
            "results": {f"{b}/{n}": r for (b, n), r in results.items()},
            "goals": goals_record(goals),
        }, indent=2))
    if any("error" in r for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
