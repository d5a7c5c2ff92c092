"""The notebook-facing tracking functions (``wb.start_run``, ``wb.log_metric``, ...).

Names and shapes follow MLflow's fluent API on purpose. The active run is kept
per thread (so HPO workers in threads each have their own); the experiment is
set per process.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import secrets
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench import config, models
from workbench.client import get_client
from workbench.clock import now_ms
from workbench.errors import Conflict, InvalidArgument
from workbench.tracking import environment, names, validation
from workbench.tracking.batcher import Batcher, LoggingWarning

DEFAULT_EXPERIMENT = "Default"
_SEARCH_PAGE = 10_000


class ActiveRun:
    """A started run: ``run.id`` (also ``run.info.run_id``), usable as a context manager.

    Leaving the ``with`` block ends the run: FINISHED, or FAILED if an exception escaped.
    """

    def __init__(self, run: models.Run):
        self._run = run
        self._params: dict[str, str] = {}

    @property
    def id(self) -> str:
        return self._run.info.run_id

    @property
    def info(self) -> models.RunInfo:
        return self._run.info

    @property
    def data(self) -> models.RunData:
        return self._run.data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        status = models.RunStatus.FINISHED if exc_type is None else models.RunStatus.FAILED
        if exc_type is KeyboardInterrupt:
            status = models.RunStatus.KILLED
        end_run(status=status.value, _run_id=self.id)

    def __repr__(self) -> str:
        return f"<ActiveRun id={self.id!r} name={self.info.name!r} experiment_id={self.info.experiment_id}>"


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []


_state = _State()
_open_runs: dict[str, ActiveRun] = {}  # every thread's started, not yet ended runs: ended at exit
_experiment: dict[str, models.Experiment] = {}  # settings key -> experiment set by set_experiment
_experiment_ids_by_name: dict[tuple[str, str], int] = {}  # names are unique per user and never change
_batcher: Batcher | None = None
_checked_metric_keys: set[str] = set()
_batcher_lock = threading.Lock()


def _batcher_instance() -> Batcher:
    global _batcher
    if _batcher is not None:  # the hot path: no lock once created
        return _batcher
    with _batcher_lock:
        if _batcher is None:
            _batcher = Batcher(get_client, lambda: config.settings().home / "spool")
            atexit.register(_at_exit)
        return _batcher


def _at_exit() -> None:
    # Runs still open at exit (in any thread) end as FINISHED, as in MLflow. Their ends are queued
    # behind their values; what the server cannot take within the close timeout is spooled.
    if _batcher is None:
        return
    for run_id in list(_open_runs)[::-1]:
        _open_runs.pop(run_id, None)
        _batcher.unwatch(run_id)
        _batcher.add(run_id, "end", (models.RunStatus.FINISHED, now_ms()))
    _batcher.close()


def _settings_key() -> tuple:
    s = config.settings()
    return (s.server_url, s.token, s.db_url, s.user)


# --- experiments --------------------------------------------------------------------------------


def set_experiment(name: str) -> models.Experiment:
    """Make ``name`` the experiment new runs go to, creating it if needed.

    Example:
        >>> wb.set_experiment("churn")
    """
    exp = get_client().create_experiment(validation.check_name("experiment", name), exist_ok=True)
    _experiment[repr(_settings_key())] = exp
    _experiment_ids_by_name[(repr(_settings_key()), exp.name)] = exp.id
    return exp


def _current_experiment() -> models.Experiment:
    exp = _experiment.get(repr(_settings_key()))
    return exp if exp is not None else set_experiment(DEFAULT_EXPERIMENT)


def get_experiment() -> models.Experiment:
    """The current experiment with up-to-date run counts (``Default`` when none was set)."""
    exp = _experiment.get(repr(_settings_key()))
    return get_client().get_experiment(exp.id) if exp is not None else set_experiment(DEFAULT_EXPERIMENT)


def list_experiments() -> list[models.Experiment]:
    return get_client().list_experiments()


# --- runs ---------------------------------------------------------------------------------------


def start_run(
    name: str | None = None,
    *,
    tags: Mapping[str, Any] | None = None,
    experiment: str | None = None,
    nested: bool = False,
) -> ActiveRun:
    """Start a run in the current experiment and make it the active one.

    Records the notebook path and a snapshot of its source, the git commit and
    the Python packages, so the run can be reproduced from its record.

    Example:
        >>> with wb.start_run(name="rf", tags={"team": "growth"}) as run:
        ...     wb.log_metric("auc", 0.91)
    """
    nested = nested and bool(_state.stack)  # nested with no parent is simply a run
    if _state.stack and not nested:
        raise Conflict(
            f"Run {_state.stack[-1].id} is already active. End it with wb.end_run(), "
            "or pass nested=True to start a child run."
        )
    exp = set_experiment(experiment) if experiment else _current_experiment()
    tag_map = {validation.check_key("tag", k): str(v) for k, v in (tags or {}).items()}
    if nested:
        tag_map.setdefault("workbench.parent_run_id", _state.stack[-1].id)
    env = environment.capture()
    spec = models.RunCreate(
        experiment_id=exp.id,
        run_id=uuid.uuid4().hex,
        name=validation.check_name("run", name) if name is not None else names.run_name(secrets.randbelow),
        tags=tag_map,
        start_time=now_ms(),
        kernel_id=environment.kernel_id(),
        environment=env,
    )
    # The run is created by the first batch the logger sends: start_run never waits for the server.
    info = models.RunInfo(run_id=spec.run_id, experiment_id=exp.id, name=spec.name, status=models.RunStatus.RUNNING,
                          start_time=spec.start_time, user=_user_name(), notebook_path=env.notebook_path,
                          git_commit=env.git_commit, kernel_id=spec.kernel_id)
    run = ActiveRun(models.Run(info=info, data=models.RunData(tags=tag_map)))
    batcher = _batcher_instance()
    batcher.add(run.id, "create", spec)
    _state.stack.append(run)
    _open_runs[run.id] = run
    batcher.watch(run.id)
    return run


_user_names: dict[str, str] = {}


def _user_name() -> str:
    key = repr(_settings_key())
    if key not in _user_names:
        _user_names[key] = get_client().me().name
    return _user_names[key]


def active_run() -> ActiveRun | None:
    return _state.stack[-1] if _state.stack else None


def end_run(status: str = "FINISHED", *, _run_id: str | None = None) -> None:
    """End the active run once every value logged to it is stored.

    The end is queued behind the run's values, so the server sees them in order.
    If the server is unreachable for ``WORKBENCH_FLUSH_TIMEOUT`` seconds, a warning
    says so and the values stay queued (retried in the background, spooled at exit).
    Raises the server's error if any buffered value was rejected.
    """
    final = models.RunStatus(status) if status in models.RunStatus.__members__ else None
    if final is None or final == models.RunStatus.RUNNING:
        raise InvalidArgument(f"Cannot end a run as {status!r}; use FINISHED, FAILED or KILLED.")
    run = next((r for r in reversed(_state.stack) if r.id == _run_id), None) if _run_id else active_run()
    if run is None:
        return
    _state.stack.remove(run)
    _open_runs.pop(run.id, None)
    batcher = _batcher_instance()
    batcher.unwatch(run.id)
    batcher.add(run.id, "end", (final, now_ms()))
    try:
        batcher.flush(run.id, timeout=config.settings().flush_timeout_s)
    except TimeoutError:
        warnings.warn(f"Run {run.id} ended, but the Workbench server has not answered for "
                      f"{config.settings().flush_timeout_s:.0f} s: its last values and its end stay queued and "
                      "are retried in the background (and saved to disk at exit).", LoggingWarning, stacklevel=2)


def _run_for_logging() -> ActiveRun:
    run = active_run()
    return run if run is not None else start_run()  # MLflow starts a run on first log; so do we


def flush(*, timeout: float | None = None) -> None:
    """Wait until every value logged so far is stored (``TimeoutError`` after ``timeout`` seconds)."""
    _batcher_instance().flush(timeout=timeout)


# --- logging ------------------------------------------------------------------------------------


def log_param(key: str, value: Any) -> Any:
    """Record a hyperparameter. Params are immutable: logging another value for a key is an error."""
    run = _run_for_logging()
    key = validation.check_key("param", key)
    text = validation.stringify("param", key, value, validation.MAX_PARAM_VALUE)
    previous = run._params.get(key)
    if previous is not None and previous != text:
        raise Conflict(f"Param {key!r} of this run is already {previous!r}; params cannot change. "
                       "Start a new run, or record changing values as a tag or a metric.")
    run._params[key] = text
    _batcher_instance().add(run.id, "param", (key, text))
    return value


def log_params(params: Mapping[str, Any]) -> None:
    for key, value in params.items():
        log_param(key, value)


def set_tag(key: str, value: Any) -> None:
    run = _run_for_logging()
    key = validation.check_key("tag", key)
    _batcher_instance().add(run.id, "tag", (key, validation.stringify("tag", key, value, validation.MAX_TAG_VALUE)))


def set_tags(tags: Mapping[str, Any]) -> None:
    for key, value in tags.items():
        set_tag(key, value)


def log_metric(key: str, value: float, step: int | None = None, *, timestamp: int | None = None) -> None:
    """Record one value of a metric at ``step`` (default 0). Returns at once; sent in the background.

    Example:
        >>> for epoch in range(10):
        ...     wb.log_metric("loss", loss, step=epoch)
    """
    run = _state.stack[-1] if _state.stack else _run_for_logging()
    # Fast paths for the common types; the full checks (and their messages) otherwise.
    if key not in _checked_metric_keys:
        validation.check_key("metric", key)
        if len(_checked_metric_keys) < 100_000:
            _checked_metric_keys.add(key)
    value = float(value) if type(value) in (float, int) else validation.check_metric_value(key, value)
    if step is None:
        step = 0
    elif type(step) is not int or not -(2**63) < step < 2**63:
        step = validation.check_step(key, step)
    ts = time.time_ns() // 1_000_000 if timestamp is None else validation.check_timestamp(key, timestamp)
    (_batcher or _batcher_instance()).add(run.id, "metric", (key, value, step, ts))


def log_metrics(metrics: Mapping[str, float], step: int | None = None, *, timestamp: int | None = None) -> None:
    ts = now_ms() if timestamp is None else timestamp
    for key, value in metrics.items():
        log_metric(key, value, step, timestamp=ts)


def _run_on_server() -> ActiveRun:
    """The active run, made sure to exist on the server (its creation may still be queued)."""
    run = _run_for_logging()
    _batcher_instance().flush(run.id)
    return run


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> list[models.Artifact]:
    """Upload a file (or every file of a directory) to the active run's artifacts.

    Example:
        >>> wb.log_artifact("plot.png")                       # -> artifact "plot.png"
        >>> wb.log_artifact("outputs/", artifact_path="out")   # -> "out/..."
    """
    run = _run_on_server()
    local = Path(local_path)
    if not local.exists():
        raise InvalidArgument(f"No file or directory at {str(local)!r} to log as an artifact.")
    files = sorted(p for p in local.rglob("*") if p.is_file()) if local.is_dir() else [local]
    prefix = artifact_path.strip("/") if artifact_path else ""
    logged = []
    for f in files:
        rel = f.relative_to(local).as_posix() if local.is_dir() else f.name
        logged.append(get_client().put_artifact(run.id, f"{prefix}/{rel}" if prefix else rel, f.read_bytes()))
    return logged


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> list[models.Artifact]:
    return log_artifact(local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> models.Artifact:
    """Store ``text`` as an artifact file, e.g. ``wb.log_text(report, "notes/summary.md")``."""
    return get_client().put_artifact(_run_on_server().id, artifact_file, text.encode())


def log_figure(figure: Any, artifact_file: str) -> models.Artifact:
    """Store a matplotlib figure (PNG/SVG/PDF by the file's extension) as an artifact."""
    buf = io.BytesIO()
    fmt = Path(artifact_file).suffix.lstrip(".") or "png"
    figure.savefig(buf, format=fmt, bbox_inches="tight")
    return get_client().put_artifact(_run_on_server().id, artifact_file, buf.getvalue())


def dataset_digest(df: pd.DataFrame) -> str:
    """A content hash of a DataFrame: same rows, columns and dtypes give the same digest."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()[:40]


def log_dataset(
    df: Any, *, name: str, context: str | None = "training", source: str | None = None
) -> models.DatasetInput:
    """Record the dataset a run used by content: digest, schema and size, versioned by name.

    The same name with new content becomes a new version; the same content is the same version.

    Example:
        >>> wb.log_dataset(train_df, name="churn-train", source="s3://bucket/churn.parquet")
    """
    run = _run_on_server()
    frame = df if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
    spec = models.DatasetLog(
        name=name,
        digest=dataset_digest(frame),
        num_rows=len(frame),
        num_columns=frame.shape[1],
        schema={str(c): str(t) for c, t in frame.dtypes.items()},
        source=source,
        context=context,
    )
    return get_client().log_dataset(run.id, spec)


# --- reading ------------------------------------------------------------------------------------


def get_run(run_id: str) -> models.Run:
    """A run with its params, latest metrics, tags and datasets."""
    if run_id in _open_runs:
        flush()  # reading one's own run should see everything logged so far
    return get_client().get_run(run_id)


def get_metric_history(run_id: str | Sequence[str], key: str) -> pd.DataFrame:
    """Every logged point of a metric, in step order: columns ``step``, ``value``, ``timestamp``.

    Given a list of run ids, fetches them all in one request and adds a ``run_id`` column.

    Example:
        >>> wb.get_metric_history(run.id, "loss")
        >>> wb.get_metric_history(runs["run_id"].tolist(), "val_auc")  # many runs at once
    """
    many = not isinstance(run_id, str)
    run_ids = list(run_id) if many else [run_id]
    if any(r in _open_runs for r in run_ids):
        flush()  # reading one's own runs should see everything logged so far
    columns: dict[str, list] = {"run_id": [], "step": [], "value": [], "timestamp": []}
    if many:
        for series in get_client().get_metric_histories(run_ids, [key]) if run_ids else []:
            columns["run_id"].extend([series.run_id] * len(series.steps))
            columns["step"].extend(series.steps)
            columns["value"].extend(series.values)
            columns["timestamp"].extend(series.timestamps)
    else:
        points = get_client().get_metric_history(run_id, key).points
        columns["step"] = [p.step for p in points]
        columns["value"] = [p.value for p in points]
        columns["timestamp"] = [p.timestamp for p in points]
        columns["run_id"] = [run_id] * len(points)
    frame = pd.DataFrame({
        "run_id": pd.Series(columns["run_id"], dtype="object"),
        "step": np.asarray(columns["step"], dtype="int64"),
        "value": np.asarray(columns["value"], dtype="float64"),
        "timestamp": np.asarray(columns["timestamp"], dtype="int64"),
    })
    return frame if many else frame.drop(columns="run_id")


def _experiment_ids(experiment: str | int | Sequence[str | int] | None) -> list[int]:
    if experiment is None:
        return [_current_experiment().id]
    items = [experiment] if isinstance(experiment, str | int) else list(experiment)
    by_name = None
    ids = []
    for item in items:
        if isinstance(item, int):
            ids.append(item)
            continue
        known = _experiment_ids_by_name.get((repr(_settings_key()), item))
        if known is not None:
            ids.append(known)
            continue
        if by_name is None:
            by_name = {e.name: e.id for e in get_client().list_experiments()}
        if item not in by_name:
            raise InvalidArgument(f"No experiment named {item!r}; wb.list_experiments() shows yours.")
        ids.append(by_name[item])
    return ids


def search_runs(
    experiment: str | int | Sequence[str | int] | None = None,
    filter: str = "",  # noqa: A002 - MLflow's name
    order_by: Sequence[str] | None = None,
    *,
    max_results: int = 100_000,
) -> pd.DataFrame:
    """Runs of one or more experiments as a DataFrame, one row per run.

    Columns: ``run_id``, ``experiment_id``, ``name``, ``status``, ``start_time``,
    ``end_time``, ``user``, then ``params.<k>``, ``metrics.<k>`` (latest value)
    and ``tags.<k>``. ``filter`` is MLflow's search language.

    Example:
        >>> wb.search_runs(experiment="churn", filter="metrics.auc > 0.9 and params.depth = '4'",
        ...                order_by=["metrics.auc DESC"])
    """
    if _open_runs:
        flush()
    ids = _experiment_ids(experiment)
    runs: list[models.Run] = []
    while len(runs) < max_results:
        want = min(_SEARCH_PAGE, max_results - len(runs))
        page = get_client().search_runs(models.RunsQuery(
            experiment_ids=ids, filter=filter or "", order_by=list(order_by or []),
            max_results=want, offset=len(runs), include_total=False))
        runs.extend(page.runs)
        if len(page.runs) < want:
            break
    return runs_frame(runs)


def runs_frame(runs: Iterable[models.Run]) -> pd.DataFrame:
    """The ``search_runs`` DataFrame of some runs, built column by column."""
    runs = list(runs)
    n = len(runs)
    base = {"run_id": [], "experiment_id": [], "name": [], "status": [], "start_time": [], "end_time": [], "user": []}
    extra: dict[str, list] = {}
    for i, run in enumerate(runs):
        info = run.info
        base["run_id"].append(info.run_id)
        base["experiment_id"].append(info.experiment_id)
        base["name"].append(info.name)
        base["status"].append(info.status.value)
        base["start_time"].append(info.start_time)
        base["end_time"].append(info.end_time)
        base["user"].append(info.user)
        for prefix, values in (("params.", run.data.params), ("metrics.", run.data.metrics), ("tags.", run.data.tags)):
            for k, v in values.items():
                column = extra.get(prefix + k)
                if column is None:
                    column = extra[prefix + k] = [None] * n
                column[i] = v
    for col in ("start_time", "end_time"):  # ms -> UTC timestamps, as MLflow gives them
        ms = np.asarray([np.nan if v is None else v for v in base[col]], dtype="float64")
        base[col] = pd.DatetimeIndex(ms.astype("datetime64[ms]"), tz="UTC") if n else pd.DatetimeIndex([], tz="UTC")
    order = sorted(extra, key=lambda c: ({"params.": 0, "metrics.": 1, "tags.": 2}[c[:c.index(".") + 1]], c))
    for c in order:
        base[c] = (np.asarray([np.nan if v is None else v for v in extra[c]], dtype="float64")
                   if c.startswith("metrics.") else extra[c])
    return pd.DataFrame(base)
