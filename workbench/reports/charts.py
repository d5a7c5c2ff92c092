"""Bokeh charts, one function per chart, built from plain data.

The lab panel embeds them with BokehJS served by the Jupyter server (no CDN),
notebooks show them inline, and shared reports render them to HTML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from bokeh.embed import json_item
from bokeh.models import ColumnDataSource, HoverTool, Legend
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from workbench import models
from workbench.tenancy import Principal

MAX_POINTS_PER_LINE = 2_000
MAX_LINES = 12


def downsample(points: Sequence[models.MetricPoint], limit: int = MAX_POINTS_PER_LINE) -> list[models.MetricPoint]:
    """At most ``limit`` points, keeping each bucket's min and max so spikes stay visible."""
    if len(points) <= limit:
        return list(points)
    buckets = max(1, limit // 2)
    size = len(points) / buckets
    out: list[models.MetricPoint] = []
    for b in range(buckets):
        chunk = points[int(b * size):int((b + 1) * size)]
        if not chunk:
            continue
        lo = min(chunk, key=lambda p: p.value)
        hi = max(chunk, key=lambda p: p.value)
        out.extend(sorted({id(lo): lo, id(hi): hi}.values(), key=lambda p: p.step))
    if out[-1] is not points[-1]:
        out.append(points[-1])
    return out


def metric_history_figure(histories: Mapping[str, Sequence[models.MetricPoint]], *, title: str = ""):
    """Metrics by step, one line per key, with hover and a clickable legend."""
    fig = figure(title=title or None, height=320, sizing_mode="stretch_width", x_axis_label="step",
                 tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above")
    legend_items = []
    for i, (key, points) in enumerate(list(histories.items())[:MAX_LINES]):
        pts = downsample(points)
        source = ColumnDataSource({"step": [p.step for p in pts], "value": [p.value for p in pts],
                                   "key": [key] * len(pts)})
        color = Category10_10[i % 10]
        line = fig.line("step", "value", source=source, line_width=2, color=color)
        marks = fig.scatter("step", "value", source=source, size=4, color=color, alpha=0.6 if len(pts) < 200 else 0)
        legend_items.append((key, [line, marks]))
    if legend_items:
        legend = Legend(items=legend_items, click_policy="hide", location="top_left")
        fig.add_layout(legend, "right")
    fig.add_tools(HoverTool(tooltips=[("metric", "@key"), ("step", "@step"), ("value", "@value{0.0000}")]))
    return fig


def run_metrics_item(tracking, user: Principal, run_id: str, keys: Sequence[str]) -> str:
    """The run page's metrics chart as a Bokeh ``json_item`` (JSON text)."""
    run = tracking.get_run(user, run_id)
    wanted = list(keys) or sorted(run.data.metrics)[:8]
    ordered = {k: tracking.get_metric_history(user, run.info.run_id, k).points for k in wanted}
    return json.dumps(json_item(metric_history_figure(ordered)))
