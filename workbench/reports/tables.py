"""Tables of a comparison: params, metrics and tags side by side (the diff table), the best run
per metric, groups of runs, and an interactive table of runs for ``wb.runs``.

Column titles are escaped: SlickGrid, under Bokeh's DataTable, writes them as HTML. Cells are
text nodes.
"""

from __future__ import annotations

import html
import math

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import (
    CDSView,
    CheckboxGroup,
    ColumnDataSource,
    CustomJS,
    DataTable,
    DateFormatter,
    Div,
    GroupFilter,
    IndexFilter,
    LinearColorMapper,
    ScientificFormatter,
    Select,
    StringEditor,
    StringFormatter,
    TableColumn,
    TextInput,
)
from bokeh.models.layouts import LayoutDOM

from workbench.reports import _js
from workbench.reports.compare import (
    MAX_GROUPS,
    Comparison,
    best_runs,
    equal_columns,
    group_runs,
    groupable_columns,
    metric_direction,
)
from workbench.reports.sources import PLOT_HEIGHT, runs_source

HIGHLIGHT = "#ffe07a"
TRANSPARENT = "rgba(0, 0, 0, 0)"


def diff_table(comparison: Comparison, *, source: ColumnDataSource | None = None) -> LayoutDOM:
    """Params, metrics (latest values) and tags of every run side by side. Columns whose value is
    the same in every run are greyed (tagged ``"equal"``) and hidden on request; the best value
    of each metric is highlighted.

    Example:
        >>> show(diff_table(cmp))
    """
    src = source if source is not None else runs_source(comparison)
    same = equal_columns(comparison) if len(comparison.runs) > 1 else set()
    best = best_runs(comparison)
    columns = [
        TableColumn(field="name", title="run", width=160, formatter=StringFormatter(font_style="bold")),
        TableColumn(field="experiment", title="experiment", width=120),
        TableColumn(field="status", title="status", width=80),
    ]
    editor = StringEditor()  # the table is read-only: one editor for all columns, not one each
    plain, greyed = StringFormatter(null_format="", nan_format=""), StringFormatter(null_format="", nan_format="",
                                                                                   text_color="#9a9a9a")
    for col in comparison.columns():
        kind, _, key = col.partition(".")
        equal = col in same
        grey = "#9a9a9a" if equal else None
        if kind == "metrics":
            b = best.get(key)
            background = None
            if b is not None and not equal:
                lo, hi = (b.value, b.value + 1.0) if b.direction == "max" else (b.value - 1.0, b.value)
                mapper = LinearColorMapper(palette=[HIGHLIGHT, HIGHLIGHT], low=lo, high=hi, low_color=TRANSPARENT,
                                           high_color=TRANSPARENT, nan_color=TRANSPARENT)
                background = {"field": col, "transform": mapper}
            formatter = ScientificFormatter(precision=6, power_limit_low=-4, nan_format="", null_format="",
                                            text_color=grey, background_color=background)
        else:
            formatter = greyed if equal else plain
        # SlickGrid writes column titles as HTML: escape keys.
        title = html.escape(f"{key} ↓" if kind == "metrics" and metric_direction(key) == "min" else
                            f"{key} ↑" if kind == "metrics" else key)
        columns.append(TableColumn(field=col, title=title, formatter=formatter, width=110, editor=editor,
                                   tags=["equal", kind] if equal else [kind]))
    table = DataTable(source=src, columns=columns, height=PLOT_HEIGHT, sizing_mode="stretch_width",
                      autosize_mode="none", index_position=None, frozen_columns=1,
                      reorderable=False)
    toggle = CheckboxGroup(labels=[f"Hide the {len(same)} columns that are the same in every run"], active=[])
    toggle.js_on_change("active", CustomJS(args={"table": table, "columns": columns, "toggle": toggle},
                                           code=_js.TABLE))
    note = Div(text="Highlighted: the best value of each metric (↓ lower is better, ↑ higher is better). "
                    "Select rows to highlight the runs in the other views.", render_as_text=True)
    return column(row(toggle, note), table, sizing_mode="stretch_width")


def best_runs_table(comparison: Comparison) -> LayoutDOM:
    """The best run of each metric by its latest value, and which way is better.

    Example:
        >>> show(best_runs_table(cmp))
    """
    best = best_runs(comparison)
    rows: dict[str, list] = {"metric": [], "direction": [], "run": [], "run_id": [], "value": [], "with_value": []}
    for key, b in best.items():
        rows["metric"].append(key)
        rows["direction"].append("lower is better" if b.direction == "min" else "higher is better")
        rows["run"].append(comparison.runs[b.run_index].name)
        rows["run_id"].append(comparison.runs[b.run_index].run_id)
        rows["value"].append(b.value)
        rows["with_value"].append(int(np.isfinite(np.array(comparison.column(f"metrics.{key}"))).sum()))
    if not rows["metric"]:
        return Div(text="No run has a metric value to rank.", render_as_text=True)
    table = DataTable(source=ColumnDataSource(rows), height=min(PLOT_HEIGHT, 30 + 26 * len(rows["metric"])),
                      sizing_mode="stretch_width", index_position=None, reorderable=False, columns=[
                          TableColumn(field="metric", title="metric", formatter=StringFormatter(font_style="bold")),
                          TableColumn(field="direction", title="direction"),
                          TableColumn(field="run", title="best run"),
                          TableColumn(field="value", title="value",
                                      formatter=ScientificFormatter(precision=6, power_limit_low=-4)),
                          TableColumn(field="with_value", title="runs with a value"),
                          TableColumn(field="run_id", title="run id"),
                      ])
    note = Div(text="Best by the latest value. A metric named like a loss, error or cost (loss, error, rmse, mse, "
                    "mae, perplexity, latency, time, ...) is minimized; any other is maximized.", render_as_text=True)
    return column(note, table, sizing_mode="stretch_width")


def groups_view(comparison: Comparison) -> LayoutDOM:
    """Runs grouped by a param or tag: per group, how many runs and the mean and standard
    deviation of each metric's latest value. Curves by group are in the Curves view.

    Example:
        >>> show(groups_view(cmp))
    """
    cols = groupable_columns(comparison)
    if not cols:
        return Div(text=f"No param or tag splits these runs into 2 to {MAX_GROUPS} groups.", render_as_text=True)
    data: dict[str, list] = {"column": [], "group": [], "runs": []}
    for key in comparison.metric_keys:
        data[f"mean:{key}"], data[f"std:{key}"] = [], []
    for col in cols:
        for g in group_runs(comparison, col):
            data["column"].append(col)
            data["group"].append(g.label)
            data["runs"].append(len(g.run_indices))
            for key in comparison.metric_keys:
                data[f"mean:{key}"].append(g.mean[key])
                data[f"std:{key}"].append(g.std[key])
    source = ColumnDataSource(data)
    group_filter = GroupFilter(column_name="column", group=cols[0])
    number = ScientificFormatter(precision=5, power_limit_low=-4, nan_format="")
    columns = [TableColumn(field="group", title="group", width=140, formatter=StringFormatter(font_style="bold")),
               TableColumn(field="runs", title="runs", width=60)]
    for key in comparison.metric_keys:
        columns.append(TableColumn(field=f"mean:{key}", title=html.escape(f"{key} mean"), formatter=number, width=110))
        columns.append(TableColumn(field=f"std:{key}", title="± sd", formatter=number, width=90))
    table = DataTable(source=source, view=CDSView(filter=group_filter), columns=columns, height=PLOT_HEIGHT,
                      sizing_mode="stretch_width", autosize_mode="none", index_position=None, reorderable=False)
    select = Select(title="Group by", value=cols[0], options=cols, width=240)
    select.js_on_change("value", CustomJS(args={"group_filter": group_filter, "select": select, "source": source},
                                          code=_js.GROUPS))
    note = Div(text="Mean and standard deviation of each metric's latest value over the group's runs.",
               render_as_text=True)
    return column(row(select, note), table, sizing_mode="stretch_width")


def runs_table(frame) -> LayoutDOM:
    """An interactive table of a ``search_runs`` frame: sortable columns, a search box that keeps
    the rows where any text contains what is typed, selectable rows.

    Example:
        >>> show(runs_table(wb.search_runs(experiment="churn")))
    """
    import pandas as pd

    data: dict[str, object] = {}
    columns, text_columns = [], []
    for name in frame.columns:
        series = frame[name]
        if series.dtype.kind == "M" or name in ("start_time", "end_time"):
            stamps = pd.to_datetime(series, utc=True)  # search_runs gives UTC timestamps; BokehJS wants ms
            data[name] = ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(milliseconds=1)).to_numpy(dtype=float)
            formatter = DateFormatter(format="%Y-%m-%d %H:%M:%S", nan_format="")
        elif series.dtype.kind in "fiu":
            data[name] = series.astype("float64").to_numpy()
            formatter = ScientificFormatter(precision=6, power_limit_low=-4, nan_format="", null_format="")
        else:
            data[name] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in series]
            formatter = StringFormatter(null_format="")
            text_columns.append(name)
        width = 240 if name == "run_id" else 160 if name in ("name", "start_time", "end_time") else 110
        columns.append(TableColumn(field=name, title=html.escape(str(name)), formatter=formatter, width=width))
    source = ColumnDataSource(data)
    index_filter = IndexFilter(indices=None)
    table = DataTable(source=source, view=CDSView(filter=index_filter), columns=columns, height=PLOT_HEIGHT,
                      sizing_mode="stretch_width", autosize_mode="none", frozen_columns=min(3, len(columns)),
                      reorderable=False)
    search = TextInput(placeholder="Search runs (any text column)", width=320)
    search.js_on_change("value_input", CustomJS(args={"source": source, "index_filter": index_filter,
                                                          "text_columns": text_columns}, code=_js.FILTER_ROWS))
    count = Div(text=f"{len(frame):,} runs", render_as_text=True)
    return column(row(search, count), table, sizing_mode="stretch_width")
