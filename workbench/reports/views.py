"""The compare views: one function per chart, each returning a Bokeh model with its controls.

Every control is a Bokeh widget with a CustomJS callback (``workbench.reports._js``), so the
same document works in the lab panel, inline in a notebook and in a shared report page with
no Python behind it. The views share one ColumnDataSource of the runs (one row per run,
``workbench.reports.sources``), so runs brushed in the parallel coordinates or selected in the
scatter are highlighted in the table (``workbench.reports.tables``) too. Sizes stay lean for 10,000 runs: columns, not glyphs per run; curves are a few
line renderers per metric (one per run up to 20 runs, else one per colour class) holding
their runs' curves end to end with NaN between them, drawn with WebGL.

User text (run names, keys, values) reaches the page only through canvas text, DataTable
cells (text nodes), escaped column titles and ``render_as_text`` Divs, never as HTML.

Example:
    >>> from bokeh.embed import json_item
    >>> item = json_item(compare_view(build_comparison(tracking, alice, run_ids), title="lr sweep"))
"""

from __future__ import annotations

import math

import numpy as np
from bokeh.core.property.vectorization import field, value
from bokeh.embed import json_item
from bokeh.layouts import column, row
from bokeh.models import (
    BasicTicker,
    BasicTickFormatter,
    BoxSelectTool,
    Button,
    ColorBar,
    ColumnDataSource,
    CustomJS,
    CustomJSHover,
    CustomJSTickFormatter,
    DataRange1d,
    Div,
    FixedTicker,
    GlyphRenderer,
    HoverTool,
    Legend,
    LegendItem,
    Line,
    LinearColorMapper,
    LogScale,
    LogTicker,
    LogTickFormatter,
    RadioButtonGroup,
    Range1d,
    Select,
    Slider,
    TabPanel,
    Tabs,
    TapTool,
    Toggle,
)
from bokeh.models.layouts import LayoutDOM
from bokeh.palettes import Category10_10, Category20_20, Viridis256, viridis
from bokeh.plotting import figure

from workbench import models
from workbench.reports import _js
from workbench.reports.compare import (
    Comparison,
    Curves,
    best_runs,
    build_comparison,
    equal_columns,
    group_runs,
    groupable_columns,
    metric_direction,
)
from workbench.reports.sources import (
    GREY,
    MAX_RUN_COLORS,
    PLOT_HEIGHT,
    RUN_PALETTE,
    numeric_column,
    runs_source,
    short_text,
)
from workbench.reports.tables import best_runs_table, diff_table, groups_view
from workbench.tenancy import Principal

VALUE_CLASSES = 10
CLASS_PALETTE = tuple(viridis(VALUE_CLASSES))
MAX_AXES_PARAMS = 10
MAX_AXES_METRICS = 10


# --- curves ---------------------------------------------------------------------------------------


def curve_classes(comparison: Comparison, curves: Curves) -> tuple[np.ndarray, list[str]]:
    """The colour class of each curve of a metric, and the colour of each class.

    Up to ``MAX_RUN_COLORS`` runs, a class per run (class = run index). Beyond, ``VALUE_CLASSES``
    classes by the rank of the run's latest value of the metric (dark = low, bright = high),
    and a grey class last for runs without a finite one.
    """
    n = len(comparison.runs)
    if n <= MAX_RUN_COLORS:
        return curves.runs.astype(np.int64), [RUN_PALETTE[i] for i in range(n)]
    latest = np.array([comparison.runs[i].metrics.get(curves.metric, math.nan) for i in curves.runs], dtype=np.float64)
    classes = np.full(len(latest), VALUE_CLASSES, dtype=np.int64)
    finite = np.flatnonzero(np.isfinite(latest))
    if len(finite):
        ranks = np.empty(len(finite), dtype=np.int64)
        ranks[np.argsort(latest[finite], kind="stable")] = np.arange(len(finite))
        classes[finite] = ranks * VALUE_CLASSES // len(finite)
    return classes, [*CLASS_PALETTE, GREY]


def curve_columns(curves: Curves, which) -> dict[str, np.ndarray]:
    """Columns of one line renderer: the curves ``which`` end to end, a NaN point between two
    (``run`` -1 there), so one Line glyph draws them all."""
    parts: dict[str, list[np.ndarray]] = {"step": [], "time": [], "value": [], "run": []}
    gap_f, gap_i = np.array([np.nan]), np.array([-1], dtype=np.int32)
    for k, i in enumerate(which):
        a, b = curves.offsets[i], curves.offsets[i + 1]
        if k:
            for col in ("step", "time", "value"):
                parts[col].append(gap_f)
            parts["run"].append(gap_i)
        parts["step"].append(curves.steps[a:b])
        parts["time"].append(curves.times[a:b])
        parts["value"].append(curves.values[a:b])
        parts["run"].append(np.full(b - a, curves.runs[i], dtype=np.int32))
    if not parts["run"]:
        return {"step": np.array([]), "time": np.array([], dtype=np.float32),
                "value": np.array([], dtype=np.float32), "run": np.array([], dtype=np.int32)}
    step = np.concatenate(parts["step"])
    # Lean columns: steps below 2**24 are exact in float32; fewer than 32,767 runs fit int16.
    exact = not len(step) or np.nanmax(np.abs(step)) < 2 ** 24
    run = np.concatenate(parts["run"])
    return {"step": step.astype(np.float32) if exact else step,
            "time": np.concatenate(parts["time"]).astype(np.float32),
            "value": np.concatenate(parts["value"]).astype(np.float32),
            "run": run.astype(np.int16) if run.max(initial=0) < 2 ** 15 - 1 else run}


def metric_curves(comparison: Comparison, *, source: ColumnDataSource | None = None) -> LayoutDOM:
    """Metric curves of every run overlaid, with a metric picker, x by step or by time since
    the run started, EMA smoothing, a log-scale toggle, and grouping by a param or tag (each
    group's mean, and a band of one standard deviation around it). The best run of the metric
    is drawn thicker.

    Example:
        >>> show(metric_curves(cmp))
    """
    if not comparison.metrics:
        return Div(text="These runs logged no metrics to draw.", render_as_text=True)
    src = source if source is not None else runs_source(comparison)
    n_runs = len(comparison.runs)
    by_run = n_runs <= MAX_RUN_COLORS
    first = comparison.metrics[0]
    best = best_runs(comparison)
    alpha = 0.9 if n_runs <= MAX_RUN_COLORS else 0.6 if n_runs <= 200 else 0.3
    width = 2.0 if n_runs <= MAX_RUN_COLORS else 1.2

    fig = figure(height=PLOT_HEIGHT, sizing_mode="stretch_width", output_backend="webgl",
                 x_range=DataRange1d(only_visible=True), y_range=DataRange1d(only_visible=True),
                 tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above",
                 x_axis_label="step", y_axis_label=first)
    lin_scale, lin_ticker, lin_formatter = fig.y_scale, fig.yaxis[0].ticker, fig.yaxis[0].formatter

    renderers: dict[str, list] = {}
    best_renderers: dict[str, object] = {}
    titles: dict[str, str] = {}
    legend_renderers: dict[int, list] = {}
    for m in comparison.metrics:
        curves = comparison.curves[m]
        classes, colors = curve_classes(comparison, curves)
        rs = []
        for c, color in enumerate(colors):
            which = np.flatnonzero(classes == c)
            if not len(which):
                continue
            r = _line(fig, curve_columns(curves, which), color=color, width=width, alpha=alpha,
                      visible=m == first, name=f"curves:{m}", mutable=by_run)
            rs.append(r)
            if by_run:
                legend_renderers.setdefault(c, []).append(r)
        renderers[m] = rs
        direction = "lower" if metric_direction(m) == "min" else "higher"
        titles[m] = f"{m} ({direction} is better)"
        b = best.get(m)
        if b is not None:
            hits = np.flatnonzero(curves.runs == b.run_index)
            titles[m] += f" · best: {comparison.runs[b.run_index].name} = {b.value:.6g}"
            if len(hits):
                color = RUN_PALETTE[b.run_index] if by_run else "#202020"
                best_renderers[m] = _line(fig, curve_columns(curves, hits[:1]), color=color, width=width + 2.5,
                                          alpha=1.0, visible=m == first, name=f"best:{m}")
    fig.title.text = titles[first]

    run_legend = None
    if by_run and legend_renderers:
        run_legend = Legend(items=[LegendItem(label=value(comparison.runs[i].name), renderers=rs)
                                   for i, rs in sorted(legend_renderers.items())],
                            click_policy="mute", location="top_left")
        fig.add_layout(run_legend, "right")
    # Groups: one source for all of them, their mean lines and their bands (filled in by the callback).
    band_source = ColumnDataSource({"xs": [], "ys": [], "pxs": [], "pys": [], "color": [], "label": []})
    band_areas = fig.patches("pxs", "pys", source=band_source, fill_color="color", fill_alpha=0.18, line_alpha=0,
                             visible=False)
    band_lines = fig.multi_line("xs", "ys", source=band_source, line_color="color", line_width=3, visible=False)
    group_legend = Legend(items=[LegendItem(label=field("label"), renderers=[band_lines])], location="top_left",
                          visible=False)
    fig.add_layout(group_legend, "right")

    names = src if "name" in src.data else ColumnDataSource({"name": [r.name for r in comparison.runs]})
    fig.add_tools(HoverTool(
        renderers=[r for rs in renderers.values() for r in rs],
        tooltips=[("run", "@run{custom}"), ("step", "@step{0,0}"), ("time", "@time{0,0.0} s"),
                  ("value", "@value{%.6g}")],
        formatters={"@run": CustomJSHover(args={"runs": names},
                                          code="return value >= 0 ? String(runs.data.name[value]) : ''"),
                    "@value": "printf"},
    ))

    groupable = groupable_columns(comparison)
    groups = {}
    for col in groupable:
        gs = group_runs(comparison, col)
        codes = np.zeros(n_runs, dtype=np.int32)
        for k, g in enumerate(gs):
            codes[g.run_indices] = k
        groups[col] = {"labels": [g.label for g in gs], "codes": codes}

    metric_select = Select(title="Metric", value=first, options=list(comparison.metrics), width=220)
    x_radio = RadioButtonGroup(labels=["step", "time"], active=0, width=130)
    smooth_slider = Slider(title="Smoothing", start=0, end=0.99, step=0.01, value=0, width=200)
    log_toggle = Toggle(label="Log scale", active=False, width=100)
    group_select = Select(title="Group by", value="", options=[("", "(none)")] + [(c, c) for c in groupable],
                          width=200)
    callback = CustomJS(args={
        "metric_select": metric_select, "x_radio": x_radio, "smooth_slider": smooth_slider,
        "log_toggle": log_toggle, "group_select": group_select, "fig": fig, "renderers": renderers,
        "best_renderers": best_renderers, "titles": titles, "lin_scale": lin_scale, "log_scale": LogScale(),
        "yaxis": fig.yaxis[0], "xaxis": fig.xaxis[0], "lin_ticker": lin_ticker, "log_ticker": LogTicker(),
        "lin_formatter": lin_formatter, "log_formatter": LogTickFormatter(), "band_source": band_source,
        "band_lines": band_lines, "band_areas": band_areas, "palette": list(Category10_10),
        "group_legend": group_legend, "run_legend": run_legend, "groups": groups, "n_runs": n_runs,
        "base_alpha": alpha,
    }, code=_js.CURVES)
    metric_select.js_on_change("value", callback)
    x_radio.js_on_change("active", callback)
    smooth_slider.js_on_change("value", callback)
    log_toggle.js_on_change("active", callback)
    group_select.js_on_change("value", callback)

    note = ("Colour: one per run; click a name to fade it." if by_run else
            "Colour: the run's final value of the metric (dark = low, bright = high).")
    note += " Thick line: the best run."
    if comparison.downsampled:
        note += (f" Curves downsampled to {comparison.point_count:,} of {comparison.logged_points:,} points "
                 "(each keeps its first and last points and the extremes in between).")
    if comparison.omitted_metrics:
        note += f" {len(comparison.omitted_metrics)} more metrics are in the table; name them to draw their curves."
    return column(row(metric_select, x_radio, smooth_slider, log_toggle, group_select),
                  Div(text=note, render_as_text=True), fig, sizing_mode="stretch_width")


def _line(fig, columns: dict, *, color: str, width: float, alpha: float, visible: bool, name: str,
          mutable: bool = False) -> GlyphRenderer:
    """A line renderer of curves laid end to end. Built by hand: ``figure.line`` would add a
    non-selection and a muted glyph to each (models the page would carry for nothing)."""
    glyph = Line(x="step", y="value", line_color=color, line_width=width, line_alpha=alpha)
    muted = Line(x="step", y="value", line_color=color, line_width=width, line_alpha=0.08) if mutable else "auto"
    renderer = GlyphRenderer(data_source=ColumnDataSource(columns), glyph=glyph, muted_glyph=muted, visible=visible,
                             name=name)
    fig.renderers.append(renderer)
    return renderer


# --- parallel coordinates -------------------------------------------------------------------------


def parallel_axes(comparison: Comparison) -> list[str]:
    """The axes of the parallel coordinates: params that differ between runs, then metrics that
    do (at most ``MAX_AXES_PARAMS`` and ``MAX_AXES_METRICS``)."""
    same = equal_columns(comparison) if len(comparison.runs) > 1 else set()
    params = [f"params.{k}" for k in comparison.param_keys if f"params.{k}" not in same][:MAX_AXES_PARAMS]
    metrics = [f"metrics.{k}" for k in comparison.metric_keys if f"metrics.{k}" not in same][:MAX_AXES_METRICS]
    return params + metrics


def parallel_coordinates(comparison: Comparison, *, source: ColumnDataSource | None = None) -> LayoutDOM:
    """Parallel coordinates of params and metrics, one line per run. Drag a box over part of an
    axis to brush it: only runs inside every brushed range stay highlighted (here, in the
    scatter and in the table).

    Each axis runs from its lowest value (bottom) to its highest (top), on a log scale when it
    spans two decades or more (learning rates); text values are spread evenly in sorted order.

    Example:
        >>> show(parallel_coordinates(cmp))
    """
    axes = parallel_axes(comparison)
    if len(axes) < 2:
        return Div(text="Parallel coordinates need two or more params or metrics that differ between the runs.",
                   render_as_text=True)
    src = source if source is not None else runs_source(comparison)
    n, k = len(comparison.runs), len(axes)
    ys = np.full((n, k), np.nan)
    ticks: dict[str, list] = {"x": [], "y": [], "text": []}
    for j, col in enumerate(axes):
        vals, factors = numeric_column(comparison.column(col))
        if factors is not None:
            span = max(len(factors) - 1, 1)
            ys[:, j] = vals / span if len(factors) > 1 else np.where(np.isnan(vals), np.nan, 0.5)
            shown = range(len(factors)) if len(factors) <= 12 else (0, len(factors) - 1)
            for i in shown:
                ticks["x"].append(j)
                ticks["y"].append(i / span if len(factors) > 1 else 0.5)
                ticks["text"].append(short_text(factors[i]))
            continue
        finite = vals[np.isfinite(vals)]
        lo, hi = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
        if lo > 0 and hi / lo >= 100:  # spans decades (a learning rate): a log axis
            with np.errstate(divide="ignore", invalid="ignore"):
                ys[:, j] = (np.log10(vals) - np.log10(lo)) / (np.log10(hi) - np.log10(lo))
            middle = 10 ** ((np.log10(lo) + np.log10(hi)) / 2)
        else:
            ys[:, j] = (vals - lo) / (hi - lo) if hi > lo else np.where(np.isnan(vals), np.nan, 0.5)
            middle = (lo + hi) / 2
        for y, v in ((0.0, lo), (0.5, middle), (1.0, hi)) if hi > lo else ((0.5, lo),):
            ticks["x"].append(j)
            ticks["y"].append(y)
            ticks["text"].append(f"{v:.4g}")
    ys[~np.isfinite(ys)] = np.nan
    src.data["_pxs"] = [list(range(k))] * n
    src.data["_pys"] = np.round(ys, 4).tolist()

    # Canvas, not WebGL: WebGL draws a MultiLine one line at a time, and 10,000 of them stall the page.
    fig = figure(height=PLOT_HEIGHT, sizing_mode="stretch_width", output_backend="canvas",
                 x_range=Range1d(-0.3, k - 0.5), y_range=Range1d(-0.06, 1.06), tools="reset,save",
                 toolbar_location="above", title="Drag over part of an axis to brush it")
    fig.yaxis.visible = False
    fig.grid.visible = False
    fig.xaxis.ticker = FixedTicker(ticks=list(range(k)))
    fig.xaxis.major_label_overrides = {j: _axis_label(col) for j, col in enumerate(axes)}
    if k > 8:
        fig.xaxis.major_label_orientation = 0.5
    alpha = 0.8 if n <= 50 else 0.45 if n <= 500 else 0.2
    lines = fig.multi_line("_pxs", "_pys", source=src, line_color="color", line_alpha=alpha,
                           line_width=1.5 if n <= 200 else 1.0, selection_line_color="color",
                           selection_line_alpha=0.95, nonselection_line_color=GREY, nonselection_line_alpha=0.07)
    fig.segment(x0="x", y0=0, x1="x", y1=1, source=ColumnDataSource({"x": list(range(k))}), line_color="#444444",
                line_width=1.5)
    fig.text("x", "y", "text", source=ColumnDataSource(ticks), text_font_size="8pt", x_offset=4,
             text_baseline="middle", text_color="#333333")
    brush = ColumnDataSource({"axis": [], "left": [], "right": [], "bottom": [], "top": []})
    fig.quad(left="left", right="right", bottom="bottom", top="top", source=brush, fill_color="#1f77b4",
             fill_alpha=0.18, line_color="#1f77b4")
    anchors = fig.scatter(x="x", y="y", source=ColumnDataSource({"x": list(range(k)), "y": [0.5] * k}), size=1,
                          alpha=0)
    box = BoxSelectTool(renderers=[anchors], continuous=False)
    fig.add_tools(box)
    fig.toolbar.active_drag = box
    if n <= 1000:  # hit-testing thousands of lines on every mouse move would stall the page
        fig.add_tools(HoverTool(renderers=[lines], tooltips=[("run", "@name")]))
    status = Div(text="Drag over part of an axis to keep the runs in that range; a flat drag on an axis clears it.",
                 render_as_text=True)
    clear = Button(label="Clear brushes", width=130)
    callback = CustomJS(args={"runs": src, "brush_source": brush, "status": status, "n_axes": k, "n_runs": n},
                        code=_js.PARALLEL)
    fig.js_on_event("selectiongeometry", callback)
    clear.js_on_event("button_click", callback)
    return column(row(clear, status), fig, sizing_mode="stretch_width")


def _axis_label(col: str) -> str:
    kind, _, key = col.partition(".")
    if kind == "metrics":
        return short_text(key) + (" ↓" if metric_direction(key) == "min" else " ↑")
    return short_text(key)


# --- scatter --------------------------------------------------------------------------------------


def scatter_columns(comparison: Comparison) -> list[str]:
    """Columns a scatter axis or its colour can show: params, metrics, tags."""
    return comparison.columns()


def scatter_defaults(comparison: Comparison) -> tuple[str, str, str]:
    """(x, y, colour) the scatter opens with: a param that differs (numbers first) against the
    first drawn metric, coloured by run (up to ``MAX_RUN_COLORS`` runs) or by another metric."""
    same = equal_columns(comparison) if len(comparison.runs) > 1 else set()
    params = [f"params.{k}" for k in comparison.param_keys if f"params.{k}" not in same]
    numeric = [p for p in params if numeric_column(comparison.column(p))[1] is None]
    metrics = [f"metrics.{m}" for m in (comparison.metrics or comparison.metric_keys)]
    cols = comparison.columns()
    y = metrics[0] if metrics else cols[0]
    x = (numeric or params or [m for m in metrics if m != y] or cols)[0]
    if len(comparison.runs) <= MAX_RUN_COLORS:
        c = "index"
    else:
        c = next((m for m in metrics if m not in (x, y)), y)
    return x, y, c


def scatter_view(comparison: Comparison, *, source: ColumnDataSource | None = None) -> LayoutDOM:
    """A scatter of any two columns (params, metrics, tags), coloured by a third; pick them
    with the selects. The best run of the y metric is starred. Box or tap selection highlights
    the same runs in the other views.

    Example:
        >>> show(scatter_view(cmp))
    """
    cols = scatter_columns(comparison)
    if not cols:
        return Div(text="These runs have no params, metrics or tags to plot.", render_as_text=True)
    src = source if source is not None else runs_source(comparison)
    n = len(comparison.runs)
    x, y, c = scatter_defaults(comparison)
    numeric, factors = {}, {}
    for col in cols:
        numeric[col], f = numeric_column(comparison.column(col))
        if f is not None:
            factors[col] = f
    run_palette = [RUN_PALETTE[i] for i in range(n)] if n <= MAX_RUN_COLORS else None
    if run_palette is not None:
        numeric["index"] = np.arange(n, dtype=np.float64)
    src.data["_sx"], src.data["_sy"], src.data["_sc"] = numeric[x], numeric[y], numeric[c]

    options = [(col, col) for col in cols]
    x_select = Select(title="x", value=x, options=options, width=220)
    y_select = Select(title="y", value=y, options=options, width=220)
    c_select = Select(title="Colour", value=c, width=220,
                      options=([("index", "run")] if run_palette is not None else []) + options)
    if run_palette is not None:
        src.data["num:index"] = numeric["index"]

    fig = figure(height=PLOT_HEIGHT, sizing_mode="stretch_width", output_backend="webgl",
                 tools="pan,wheel_zoom,box_select,tap,reset,save", toolbar_location="above",
                 x_axis_label=x, y_axis_label=y)
    basic_format = BasicTickFormatter()
    x_basic, y_basic, c_basic = BasicTicker(), BasicTicker(), BasicTicker()
    x_fixed, y_fixed, c_fixed = FixedTicker(ticks=[]), FixedTicker(ticks=[]), FixedTicker(ticks=[])
    x_text, y_text, c_text = (CustomJSTickFormatter(args={"factors": factors, "select": sel, "runs": src},
                                                    code=_js.TEXT_TICKS) for sel in (x_select, y_select, c_select))
    for axis, col, fixed, basic, text in ((fig.xaxis[0], x, x_fixed, x_basic, x_text),
                                          (fig.yaxis[0], y, y_fixed, y_basic, y_text)):
        if col in factors:
            fixed.ticks = list(range(len(factors[col])))
        axis.update(ticker=fixed if col in factors else basic, formatter=text if col in factors else basic_format)
    continuous = list(Viridis256)
    categorical = list(Category20_20[::2] + Category20_20[1::2])
    mapper = LinearColorMapper(palette=continuous, low=0, high=1, nan_color=GREY)
    colorbar = ColorBar(color_mapper=mapper, title="run" if c == "index" else c, ticker=c_basic,
                        formatter=basic_format)
    labels = [r.name for r in comparison.runs] if c == "index" and run_palette is not None else factors.get(c)
    if labels is not None:
        palette = run_palette if c == "index" else categorical[:max(len(labels), 1)]
        mapper.update(palette=palette, low=-0.5, high=len(labels) - 0.5)
        c_fixed.ticks = list(range(len(labels)))
        colorbar.update(ticker=c_fixed, formatter=c_text)
    else:
        finite = numeric[c][np.isfinite(numeric[c])]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        mapper.update(low=lo, high=hi)
    size = 9 if n <= 100 else 6 if n <= 2000 else 4
    points = fig.scatter("_sx", "_sy", source=src, size=size, fill_color={"field": "_sc", "transform": mapper},
                         line_color={"field": "_sc", "transform": mapper}, fill_alpha=0.75,
                         nonselection_fill_alpha=0.08, nonselection_line_alpha=0.08)
    fig.add_layout(colorbar, "right")
    best = {f"metrics.{k}": b.run_index for k, b in best_runs(comparison).items()}
    i = best.get(y)
    best_source = ColumnDataSource({"x": [] if i is None else [numeric[x][i]],
                                    "y": [] if i is None else [numeric[y][i]]})
    fig.scatter("x", "y", source=best_source, marker="star", size=size + 12, fill_color=None, line_color="#111111",
                line_width=2)
    fig.add_tools(HoverTool(renderers=[points], tooltips=[("run", "@name"), ("x", "@_sx{%.6g}"), ("y", "@_sy{%.6g}"),
                                                          ("colour", "@_sc{%.6g}")],
                            formatters={"@_sx": "printf", "@_sy": "printf", "@_sc": "printf"}))
    fig.select_one(TapTool).renderers = [points]

    callback = CustomJS(args={
        "runs": src, "points": points, "x_select": x_select, "y_select": y_select, "c_select": c_select,
        "xaxis": fig.xaxis[0], "yaxis": fig.yaxis[0], "x_fixed": x_fixed, "y_fixed": y_fixed, "x_basic": x_basic,
        "y_basic": y_basic, "x_text": x_text, "y_text": y_text, "basic_format": basic_format,
        "colorbar": colorbar, "c_fixed": c_fixed, "c_basic": c_basic, "c_text": c_text, "factors": factors,
        "best_source": best_source, "best": best, "continuous": continuous, "categorical": categorical,
        "run_colors": run_palette,
    }, code=_js.SCATTER)
    for sel in (x_select, y_select, c_select):
        sel.js_on_change("value", callback)
    return column(row(x_select, y_select, c_select), fig, sizing_mode="stretch_width")


# --- the whole view -------------------------------------------------------------------------------


def compare_view(comparison: Comparison, *, title: str | None = None) -> LayoutDOM:
    """Every compare view in tabs: Curves, Parallel coordinates, Scatter, Table, Best runs, Groups.

    Example:
        >>> from bokeh.embed import json_item
        >>> item = json_item(compare_view(cmp, title="lr sweep"))
    """
    src = runs_source(comparison)
    n = len(comparison.runs)
    summary = f"{n:,} run{'s' if n != 1 else ''}"
    if comparison.metrics:
        summary += f" · curves of {len(comparison.metrics)} metric{'s' if len(comparison.metrics) != 1 else ''}"
        summary += f" · {comparison.point_count:,} points"
        if comparison.downsampled:
            summary += f" (downsampled from {comparison.logged_points:,})"
    tabs = Tabs(tabs=[
        TabPanel(child=metric_curves(comparison, source=src), title="Curves"),
        TabPanel(child=parallel_coordinates(comparison, source=src), title="Parallel coordinates"),
        TabPanel(child=scatter_view(comparison, source=src), title="Scatter"),
        TabPanel(child=diff_table(comparison, source=src), title="Table"),
        TabPanel(child=best_runs_table(comparison), title="Best runs"),
        TabPanel(child=groups_view(comparison), title="Groups"),
    ], sizing_mode="stretch_width")
    head = []
    if title:
        head.append(Div(text=title, render_as_text=True, styles={"font-size": "1.3em", "font-weight": "bold"}))
    head.append(Div(text=summary, render_as_text=True, styles={"color": "#555555"}))
    return column(*head, tabs, sizing_mode="stretch_width")


def compare_payload(tracking, user: Principal, request: models.CompareRequest) -> models.CompareView:
    """What ``POST /compare`` answers: the compare view of ``request.run_ids`` as a Bokeh json_item.

    Example:
        >>> view = compare_payload(tracking, alice, models.CompareRequest(run_ids=[a, b]))
        >>> view.run_count, view.metrics
        (2, ['loss'])
    """
    comparison = build_comparison(tracking, user, request.run_ids, metrics=request.metrics,
                                  max_points=request.max_points)
    return models.CompareView.model_construct(run_count=len(comparison.runs), metrics=comparison.metrics,
                                              downsampled=comparison.downsampled,
                                              item=json_item(compare_view(comparison)))


