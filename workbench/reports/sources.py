"""The runs of a comparison as one Bokeh ColumnDataSource, one row per run, and the colours of runs.

The parallel coordinates, the scatter and the diff table all draw from the same source, so
runs selected in one are highlighted in the others.
"""

from __future__ import annotations

import math

import numpy as np
from bokeh.models import ColumnDataSource
from bokeh.palettes import Category10_10, Category20_20, Viridis256

from workbench.reports.compare import Comparison, natural_order

MAX_RUN_COLORS = 20
"""Up to this many runs each gets its own colour (and legend entry); more are coloured by value."""
RUN_PALETTE = tuple(Category20_20[::2] + Category20_20[1::2])
GREY = "#b4b4b4"
PLOT_HEIGHT = 430


def runs_source(comparison: Comparison) -> ColumnDataSource:
    """One row per run: name, experiment, status, colour, then ``params.<k>`` (text),
    ``metrics.<k>`` (latest value) and ``tags.<k>`` (text), with ``num:<column>`` holding each
    text column as numbers (its values, or the index of its value among the sorted distinct ones).

    Example:
        >>> src = runs_source(cmp)
        >>> src.data["name"], src.data["metrics.loss"]
    """
    runs = comparison.runs
    data: dict[str, object] = {
        "index": np.arange(len(runs), dtype=np.int32),
        "run_id": [r.run_id for r in runs],
        "name": [r.name for r in runs],
        "experiment": [r.experiment for r in runs],
        "status": [r.status for r in runs],
        "user": [r.user for r in runs],
        "color": run_colors(comparison),
    }
    for name in comparison.columns():
        values = comparison.column(name)
        if name.startswith("metrics."):
            data[name] = np.array(values, dtype=np.float64)
        else:
            data[name] = values
            data["num:" + name] = numeric_column(values)[0]
    return ColumnDataSource(data)


def numeric_column(values: list) -> tuple[np.ndarray, list[str] | None]:
    """A column as numbers for axes and colours: text that all parses as numbers becomes those
    numbers (factors None); other text becomes the index of each value among the sorted distinct
    values (the factors). Missing values are NaN.

    Example:
        >>> numeric_column(["0.1", "0.01", None])
        (array([0.1 , 0.01,  nan]), None)
        >>> numeric_column(["adam", "sgd", "adam"])
        (array([0., 1., 0.]), ['adam', 'sgd'])
    """
    if all(v is None or isinstance(v, (int, float)) for v in values):
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64), None
    try:
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64), None
    except ValueError:
        pass
    factors = sorted({v for v in values if v is not None}, key=natural_order)
    code = {f: i for i, f in enumerate(factors)}
    return np.array([math.nan if v is None else code[v] for v in values], dtype=np.float64), factors


def run_colors(comparison: Comparison) -> list[str]:
    """A colour per run: its own up to ``MAX_RUN_COLORS`` runs; beyond, by the latest value of the
    first drawn metric (viridis, dark = low), grey where it has none."""
    n = len(comparison.runs)
    if n <= MAX_RUN_COLORS:
        return [RUN_PALETTE[i] for i in range(n)]
    metric = (comparison.metrics or comparison.metric_keys or [None])[0]
    if metric is None:
        return [Category10_10[0]] * n
    vals = np.array(comparison.column(f"metrics.{metric}"), dtype=np.float64)
    finite = np.isfinite(vals)
    if not finite.any():
        return [GREY] * n
    lo, hi = vals[finite].min(), vals[finite].max()
    scaled = np.zeros(n) if hi == lo else (vals - lo) / (hi - lo)
    idx = np.clip((np.nan_to_num(scaled) * 255).astype(int), 0, 255)
    return [Viridis256[i] if ok else GREY for i, ok in zip(idx, finite, strict=True)]




def short_text(text: str, limit: int = 28) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (axis labels, legends)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"
