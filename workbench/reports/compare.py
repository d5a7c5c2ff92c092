"""The data of a comparison of runs: what every compare view (lab panel, notebook, shared report) draws.

``build_comparison`` reads the runs (params, latest metrics, tags) and the histories of the
metrics to draw, checking that the user can see every run, and downsamples the curves on the
server to a budget of points in all, so that 10,000 runs still make a page a browser opens.
The other functions compute what the views highlight: the best run per metric, columns whose
value is the same in every run, and groups of runs with the mean and spread of each metric.

Which way is better: a metric whose name says it is a loss, an error or a cost (see
:func:`metric_direction`) is minimized; every other metric is maximized.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from workbench.errors import InvalidArgument
from workbench.tenancy import Principal

MAX_RUNS = 10_000
DEFAULT_MAX_POINTS = 300_000
"""Curve points of a comparison in all, by default: 1,000 runs x 3 metrics x 100 steps fit whole."""
MAX_POINTS_LIMIT = 2_000_000
DEFAULT_METRICS = 10
"""Curves are drawn for at most this many metrics unless they are named."""
MAX_GROUPS = 10
"""A param or tag with more distinct values than this is not offered for grouping."""

# Words in a metric's name that mean lower is better. Matched against the name's words
# (split at punctuation and camelCase), or as the end of a word ("valloss", "trainerror").
_LOWER_IS_BETTER = frozenset({
    "loss", "error", "err", "errors", "rmse", "mse", "mae", "mape", "smape", "rmsle", "msle", "nll", "wer", "cer",
    "ter", "perplexity", "ppl", "latency", "duration", "time", "seconds", "secs", "ms", "cost", "regret", "fpr",
    "fnr", "far", "frr", "eer", "distance", "divergence", "kl", "brier", "logloss", "deviance", "bpd", "bpc",
})
_LOWER_SUFFIXES = ("loss", "error", "cost")


def metric_direction(key: str) -> str:
    """``"min"`` when a lower value of metric ``key`` is better, else ``"max"``.

    The rule: a metric is minimized when a word of its name is one of loss, error/err,
    rmse, mse, mae, mape, nll, wer, cer, perplexity/ppl, latency, duration, time, cost,
    regret, fpr, fnr, distance, divergence/kl, brier, logloss... (words split at
    punctuation, digits and camelCase), or a word ends in loss, error or cost.
    Everything else (accuracy, auc, f1, precision, recall, r2, reward...) is maximized.

    Example:
        >>> metric_direction("val_loss"), metric_direction("valRMSE"), metric_direction("auc")
        ('min', 'min', 'max')
    """
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", key)
    words = [w for w in re.split(r"[^a-z]+", spaced.lower()) if w]
    if any(w in _LOWER_IS_BETTER or w.endswith(_LOWER_SUFFIXES) for w in words):
        return "min"
    return "max"


@dataclass
class ComparedRun:
    """One run of a comparison: who, where, and what it logged (latest metric values)."""

    run_id: str
    name: str
    experiment_id: int
    experiment: str
    status: str
    user: str
    start_time: int
    end_time: int | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Curves:
    """The histories of one metric, one curve per run that logged it, as flat arrays.

    Curve ``i`` belongs to run ``runs[i]`` (an index into ``Comparison.runs``) and holds the
    points ``offsets[i]:offsets[i + 1]`` of ``steps``, ``times`` (seconds since its run
    started) and ``values``, in step order.
    """

    metric: str
    runs: np.ndarray
    offsets: np.ndarray
    steps: np.ndarray
    times: np.ndarray
    values: np.ndarray

    def curve(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, times, values) of curve ``i``."""
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.steps[a:b], self.times[a:b], self.values[a:b]

    def of_run(self, run_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(steps, times, values) of the curve of run ``run_index``; None if it did not log the metric."""
        hits = np.flatnonzero(self.runs == run_index)
        return self.curve(int(hits[0])) if len(hits) else None


@dataclass
class Comparison:
    """Runs side by side: their columns and the curves of the metrics drawn."""

    runs: list[ComparedRun]
    metrics: list[str]
    """Metrics with curves, in the order shown."""
    curves: dict[str, Curves]
    param_keys: list[str]
    metric_keys: list[str]
    """Every metric any run logged (latest values are in the tables), sorted."""
    tag_keys: list[str]
    max_points: int
    """The budget the curves were downsampled to."""
    logged_points: int
    """Points the drawn metrics hold in the store."""
    downsampled: bool
    omitted_metrics: list[str] = field(default_factory=list)
    """Metrics logged but not drawn (beyond the first ``DEFAULT_METRICS`` when none were named)."""

    @property
    def point_count(self) -> int:
        """Curve points kept for drawing."""
        return sum(len(c.values) for c in self.curves.values())

    def columns(self) -> list[str]:
        """Column names of the tables: ``params.<k>``, ``metrics.<k>``, ``tags.<k>``."""
        return ([f"params.{k}" for k in self.param_keys] + [f"metrics.{k}" for k in self.metric_keys]
                + [f"tags.{k}" for k in self.tag_keys])

    def column(self, name: str) -> list:
        """Values of a column, one per run: str for params and tags (None where missing),
        float for metrics (NaN where missing)."""
        kind, _, key = name.partition(".")
        if kind == "params":
            return [r.params.get(key) for r in self.runs]
        if kind == "tags":
            return [r.tags.get(key) for r in self.runs]
        if kind == "metrics":
            return [r.metrics.get(key, math.nan) for r in self.runs]
        raise InvalidArgument(f"Unknown column {name!r}: columns are params.<key>, metrics.<key> or tags.<key>.")


def build_comparison(tracking, user: Principal, run_ids, *, metrics=None,
                     max_points: int | None = None) -> Comparison:
    """Read runs and their metric histories for the compare views.

    Runs come in the order given (repeats dropped). Curves are drawn for ``metrics``
    (default: every metric the runs logged, the first ``DEFAULT_METRICS`` by name), and
    downsampled on the server when they hold more than ``max_points`` points in all
    (default ``DEFAULT_MAX_POINTS``): each curve keeps its first and last point and the
    lowest and highest of evenly spaced buckets, so spikes stay visible.

    Raises:
        InvalidArgument: no runs, more than 10,000, a metric none of the runs logged,
            or a ``max_points`` too small to give each curve 2 points.
        NotFound: a run that does not exist or that ``user`` cannot see (the first one).

    Example:
        >>> cmp = build_comparison(tracking, alice, [run_a, run_b], metrics=["loss"])
        >>> cmp.curves["loss"].curve(0)[2][:3]
        array([0.9, 0.7, 0.55])
    """
    run_ids = list(run_ids) if run_ids is not None else []
    if not run_ids:
        raise InvalidArgument("Pick at least one run to compare (run_ids is empty).")
    if len(run_ids) > MAX_RUNS:
        raise InvalidArgument(f"At most {MAX_RUNS:,} runs can be compared at once; got {len(run_ids):,}. "
                              "Narrow the selection with a filter.")
    if not all(isinstance(r, str) for r in run_ids):
        raise InvalidArgument("run_ids must be run id strings.")
    if max_points is not None and not (isinstance(max_points, int) and 0 < max_points <= MAX_POINTS_LIMIT):
        raise InvalidArgument(f"max_points must be between 1 and {MAX_POINTS_LIMIT:,}; got {max_points!r}.")
    budget = max_points or DEFAULT_MAX_POINTS

    runs = tracking.get_runs(user, run_ids)
    experiments = {e.id: e.name for e in tracking.list_experiments(user)}
    compared = [ComparedRun(run_id=r.info.run_id, name=r.info.name, experiment_id=r.info.experiment_id,
                            experiment=experiments.get(r.info.experiment_id, str(r.info.experiment_id)),
                            status=r.info.status.value, user=r.info.user, start_time=r.info.start_time,
                            end_time=r.info.end_time, params=dict(r.data.params), metrics=dict(r.data.metrics),
                            tags=dict(r.data.tags)) for r in runs]
    param_keys = sorted({k for r in compared for k in r.params})
    metric_keys = sorted({k for r in compared for k in r.metrics})
    tag_keys = sorted({k for r in compared for k in r.tags})

    omitted: list[str] = []
    if metrics is None:
        drawn = metric_keys[:DEFAULT_METRICS]
        omitted = metric_keys[DEFAULT_METRICS:]
    else:
        if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics):
            raise InvalidArgument("metrics must be a list of metric names.")
        drawn = list(dict.fromkeys(metrics))
        unknown = [m for m in drawn if m not in metric_keys]
        if unknown:
            have = ", ".join(metric_keys[:20]) + (", ..." if len(metric_keys) > 20 else "")
            raise InvalidArgument(f"None of these runs logged metric {unknown[0]!r}; they logged: {have or 'none'}.")
    n_curves = sum(1 for r in compared for m in drawn if m in r.metrics)
    if n_curves * 2 > budget:
        raise InvalidArgument(f"max_points={budget:,} leaves fewer than 2 points for each of the {n_curves:,} curves; "
                              f"raise it to at least {2 * n_curves:,}, or compare fewer runs or metrics.")

    cols = tracking.get_metric_columns(user, [r.run_id for r in compared], drawn, thin_to=budget)
    curves, kept = _curves(compared, drawn, cols, budget)
    return Comparison(runs=compared, metrics=drawn, curves=curves, param_keys=param_keys, metric_keys=metric_keys,
                      tag_keys=tag_keys, max_points=budget, logged_points=cols.total_points,
                      downsampled=kept < cols.total_points, omitted_metrics=omitted)


def _curves(runs: list[ComparedRun], metrics: list[str], cols, budget: int) -> tuple[dict[str, Curves], int]:
    """Per-metric flat arrays of the columns read, downsampled to ``budget``; and the points kept."""
    n = len(cols.curves)
    lengths = np.fromiter((c[2] for c in cols.curves), dtype=np.int64, count=n)
    points = np.fromiter(cols.points, dtype=[("step", "f8"), ("value", "f8"), ("time", "f8")], count=len(cols.points))
    keep = downsample_indices(lengths, points["value"], _cap(lengths, budget))
    kept = points[keep]
    kept_lengths = np.bincount(np.repeat(np.arange(n), lengths)[keep], minlength=n).astype(np.int64)
    index = {r.run_id: i for i, r in enumerate(runs)}
    run_of_curve = np.fromiter((index[c[0]] for c in cols.curves), dtype=np.int32, count=n)
    code = {m: i for i, m in enumerate(metrics)}
    metric_of_curve = np.fromiter((code[c[1]] for c in cols.curves), dtype=np.int32, count=n)
    metric_of_point = np.repeat(metric_of_curve, kept_lengths)
    start_ms = np.array([r.start_time for r in runs], dtype=np.float64)
    out: dict[str, Curves] = {}
    for m in metrics:
        which = np.flatnonzero(metric_of_curve == code[m])
        sel = np.flatnonzero(metric_of_point == code[m])
        n_each = kept_lengths[which]
        run_m = run_of_curve[which]
        times = (kept["time"][sel] - np.repeat(start_ms[run_m], n_each)) / 1000.0
        out[m] = Curves(metric=m, runs=run_m, offsets=np.concatenate(([0], np.cumsum(n_each))).astype(np.int64),
                        steps=kept["step"][sel], times=times, values=kept["value"][sel])
    return out, len(keep)


def _cap(lengths: np.ndarray, budget: int) -> int:
    """The most points any one curve may keep so that all keep at most ``budget`` (water-filling:
    short curves keep everything and leave their share to the long ones)."""
    if len(lengths) == 0 or int(lengths.sum()) <= budget:
        return max(2, int(lengths.max())) if len(lengths) else budget
    lo, hi = 2, int(lengths.max())
    while lo < hi:  # the largest cap whose total fits
        mid = (lo + hi + 1) // 2
        if int(np.minimum(lengths, mid).sum()) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def downsample_indices(lengths: np.ndarray, values: np.ndarray, cap: int) -> np.ndarray:
    """Indices (ascending) of the points to keep of curves laid end to end, at most ``cap`` per curve.

    A curve of ``cap`` points or fewer keeps them all. A longer one keeps its first and last
    point, and of its other points, cut into ``(cap - 2) // 2`` buckets of equal length, each
    bucket's lowest and highest value: the shape and the spikes survive.

    Example:
        >>> downsample_indices(np.array([6]), np.array([0., 5, 1, 2, 9, 3]), 4)
        array([0, 2, 4, 5])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.array([], dtype=np.int64)
    if cap < 2:
        raise InvalidArgument("A curve keeps at least 2 points (its first and last).")
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    curve = np.repeat(np.arange(len(lengths)), lengths)
    pos = np.arange(total) - starts[curve]
    n = lengths[curve]
    long = n > cap
    if not long.any():
        return np.arange(total)
    # Bucket of each point within its curve: every point of a short curve, and the first and
    # last of a long one, is a bucket of its own; the middle of a long curve shares buckets.
    buckets_mid = np.maximum((cap - 2) // 2, 0)
    mid = long & (pos > 0) & (pos < n - 1)
    bucket = pos.copy()
    if buckets_mid > 0:
        bucket[mid] = 1 + ((pos[mid] - 1) * buckets_mid) // (n[mid] - 2)
        last = long & (pos == n - 1)
        bucket[last] = buckets_mid + 1
    else:  # cap 2 or 3: first and last only
        bucket[mid] = -1
        bucket[long & (pos == n - 1)] = 1
    n_buckets = np.where(lengths > cap, buckets_mid + 2, lengths)
    base = np.concatenate(([0], np.cumsum(n_buckets)[:-1]))
    key = base[curve] + bucket
    valid = bucket >= 0
    idx = np.flatnonzero(valid)
    vals = np.asarray(values, dtype=np.float64)[idx]
    k = key[idx]  # never decreases: buckets are runs of consecutive points
    seg_start = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    seg = np.repeat(np.arange(len(seg_start)), np.diff(np.r_[seg_start, len(k)]))
    with np.errstate(invalid="ignore"):
        # fmin/fmax skip NaN: a bucket's lowest or highest is NaN only when all its points are.
        lowest = _first_in_segment(vals == np.fmin.reduceat(vals, seg_start)[seg], seg, seg_start)
        highest = _first_in_segment(vals == np.fmax.reduceat(vals, seg_start)[seg], seg, seg_start)
    return idx[np.unique(np.concatenate((lowest, highest)))]


def _first_in_segment(mask: np.ndarray, seg: np.ndarray, seg_start: np.ndarray) -> np.ndarray:
    """Per segment, the first position where ``mask`` holds (the segment's start where it never does)."""
    hits = np.flatnonzero(mask)
    hit_seg = seg[hits]
    firsts = np.r_[True, hit_seg[1:] != hit_seg[:-1]] if len(hits) else np.array([], dtype=bool)
    out = seg_start.copy()
    out[hit_seg[firsts]] = hits[firsts]
    return out


# --- what the views highlight --------------------------------------------------------------------


@dataclass(frozen=True)
class BestRun:
    metric: str
    direction: str
    """``"min"`` or ``"max"``: see :func:`metric_direction`."""
    run_index: int
    """Index into ``Comparison.runs``."""
    value: float


def best_runs(comparison: Comparison) -> dict[str, BestRun]:
    """The best run of each metric by its latest value (ties: the first in the comparison's order).

    Metrics no run has a finite value of are left out.

    Example:
        >>> best = best_runs(cmp)["val_loss"]
        >>> cmp.runs[best.run_index].name, best.value, best.direction
        ('rf-3', 0.21, 'min')
    """
    out: dict[str, BestRun] = {}
    for key in comparison.metric_keys:
        direction = metric_direction(key)
        vals = np.array(comparison.column(f"metrics.{key}"), dtype=np.float64)
        finite = np.isfinite(vals)
        if not finite.any():
            continue
        masked = np.where(finite, vals, np.inf if direction == "min" else -np.inf)
        i = int(np.argmin(masked) if direction == "min" else np.argmax(masked))
        out[key] = BestRun(metric=key, direction=direction, run_index=i, value=float(vals[i]))
    return out


def equal_columns(comparison: Comparison) -> set[str]:
    """Columns whose value is the same in every run (a param all runs set alike, a metric all
    ended on the same value): the diff table hides them on request.

    A key some runs lack and others have differs. NaN equals NaN here.

    Example:
        >>> sorted(equal_columns(cmp))
        ['params.optimizer', 'tags.team']
    """
    same: set[str] = set()
    for name in comparison.columns():
        vals = comparison.column(name)
        first = vals[0]
        if name.startswith("metrics."):
            if all(v == first or (math.isnan(v) and math.isnan(first)) for v in vals):
                same.add(name)
        elif all(v == first for v in vals):
            same.add(name)
    return same


def groupable_columns(comparison: Comparison) -> list[str]:
    """Params and tags that split the runs into 2 to ``MAX_GROUPS`` groups, at least one of them
    with two runs or more: what "group by" offers."""
    out = []
    n = len(comparison.runs)
    for name in [f"params.{k}" for k in comparison.param_keys] + [f"tags.{k}" for k in comparison.tag_keys]:
        distinct = len(set(comparison.column(name)))
        if 2 <= distinct <= MAX_GROUPS and distinct < n:
            out.append(name)
    return out


MISSING_GROUP = "(not set)"


@dataclass
class Group:
    """Runs sharing a value of the grouping column, with the mean and spread of each metric."""

    label: str
    run_indices: list[int]
    mean: dict[str, float]
    """Mean of each metric's latest value over the group's runs that have a finite one (NaN if none)."""
    std: dict[str, float]
    """Standard deviation (population) of the same values; 0 for one value, NaN for none."""
    count: dict[str, int]
    """Runs of the group with a finite value of each metric."""


def group_runs(comparison: Comparison, column: str) -> list[Group]:
    """Runs grouped by the value of a param or tag column (``"params.optimizer"``), groups in
    order of their values (runs without the key last, as ``(not set)``).

    Example:
        >>> [(g.label, len(g.run_indices), round(g.mean["auc"], 3)) for g in group_runs(cmp, "params.model")]
        [('rf', 4, 0.912), ('xgb', 4, 0.934)]
    """
    if not column.startswith(("params.", "tags.")):
        raise InvalidArgument(f"Runs are grouped by a param or tag (params.<key> or tags.<key>), not {column!r}.")
    values = comparison.column(column)
    labels = sorted({v for v in values if v is not None}, key=natural_order)
    if any(v is None for v in values):
        labels.append(None)
    groups = []
    for label in labels:
        members = [i for i, v in enumerate(values) if v == label]
        mean, std, count = {}, {}, {}
        for key in comparison.metric_keys:
            vals = np.array([comparison.runs[i].metrics.get(key, math.nan) for i in members], dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            count[key] = len(vals)
            mean[key] = float(vals.mean()) if len(vals) else math.nan
            std[key] = float(vals.std()) if len(vals) else math.nan
        groups.append(Group(label=MISSING_GROUP if label is None else label, run_indices=members, mean=mean,
                            std=std, count=count))
    return groups


def natural_order(value: str):
    """Sort key of text values: numbers in numeric order, before other text in text order.

    Example:
        >>> sorted(["10", "9", "adam"], key=natural_order)
        ['9', '10', 'adam']
    """
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)
