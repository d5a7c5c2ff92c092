"""Each chart and table function on runs logged through the real Tracking service: what lines, points and
columns the Bokeh models hold, and which controls drive them."""

import json

import numpy as np
import pytest
from bokeh.embed import json_item
from bokeh.models import (
    BoxSelectTool,
    CheckboxGroup,
    ColumnDataSource,
    CustomJS,
    DataTable,
    GlyphRenderer,
    GroupFilter,
    Legend,
    MultiLine,
    Plot,
    RadioButtonGroup,
    Select,
    Slider,
    Tabs,
    Toggle,
)

from tests.reports import log_run
from workbench import models
from workbench.reports.compare import build_comparison
from workbench.reports.sources import MAX_RUN_COLORS, RUN_PALETTE, numeric_column, runs_source
from workbench.reports.tables import best_runs_table, diff_table, groups_view, runs_table
from workbench.reports.views import (
    VALUE_CLASSES,
    compare_payload,
    compare_view,
    metric_curves,
    parallel_coordinates,
    scatter_view,
)


@pytest.fixture
def cmp(tracking, alice):
    """Four runs: lr (numbers), optimizer (text), seed (the same in all), loss and acc curves, a tag."""
    specs = [("a", "0.1", "adam", [1.0, 0.5, 0.4], [0.5, 0.7, 0.8], "x"),
             ("b", "0.01", "sgd", [1.0, 0.3, 0.2], [0.4, 0.6, 0.9], "x"),
             ("c", "0.001", "adam", [1.0, 0.9, 0.8], [0.3, 0.35, 0.4], "y"),
             ("d", "0.01", "sgd", [2.0, 1.5, 1.0], [0.1, 0.2, 0.3], "y")]
    ids = [log_run(tracking, alice, "sweep", name, params={"lr": lr, "optimizer": opt, "seed": "7"},
                   tags={"team": team}, metrics={"loss": loss, "acc": acc})
           for name, lr, opt, loss, acc, team in specs]
    return build_comparison(tracking, alice, ids)


def _renderers(layout, prefix):
    """Renderers named ``prefix...``, in the order the figure draws them."""
    figures = {r.id: i for p in layout.select({"type": Plot}) for i, r in enumerate(p.renderers)}
    found = [r for r in layout.select({"type": GlyphRenderer}) if (r.name or "").startswith(prefix)]
    return sorted(found, key=lambda r: figures[r.id])


def _curves_of(renderer):
    """The curves one line renderer holds, split at its NaN gaps: [(run, steps, values)]."""
    data = renderer.data_source.data
    out, start = [], 0
    runs = list(data["run"]) + [-1]
    for i, run in enumerate(runs):
        if run < 0:
            out.append((int(runs[start]), [int(v) for v in data["step"][start:i]],
                        [round(float(v), 6) for v in data["value"][start:i]]))
            start = i + 1
    return out


def _callbacks(model, attr):
    return [cb for cb in model.js_property_callbacks.get(f"change:{attr}", []) if isinstance(cb, CustomJS)]


def test_runs_source_has_a_row_per_run_and_a_column_per_key(cmp):
    data = runs_source(cmp).data
    assert data["name"] == ["a", "b", "c", "d"]
    assert data["params.lr"] == ["0.1", "0.01", "0.001", "0.01"]
    assert list(data["num:params.lr"]) == [0.1, 0.01, 0.001, 0.01]
    assert list(data["num:params.optimizer"]) == [0, 1, 0, 1]  # index among adam, sgd
    assert list(data["metrics.loss"]) == [0.4, 0.2, 0.8, 1.0] and data["tags.team"] == ["x", "x", "y", "y"]
    assert data["color"] == list(RUN_PALETTE[:4])


def test_numeric_column_turns_text_into_numbers_or_codes():
    assert numeric_column(["1", "2.5", None])[1] is None
    values, factors = numeric_column(["sgd", "adam", None, "sgd"])
    assert factors == ["adam", "sgd"] and list(values[[0, 1, 3]]) == [1, 0, 1] and np.isnan(values[2])
    assert numeric_column(["10", "9", "x"])[1] == ["9", "10", "x"]


def test_metric_curves_draw_every_run_of_every_metric_with_the_best_thicker(cmp):
    layout = metric_curves(cmp)
    loss = _renderers(layout, "curves:loss")
    acc = _renderers(layout, "curves:acc")
    assert len(loss) == len(acc) == 4  # up to 20 runs: a renderer (and colour) per run
    assert [_curves_of(r) for r in loss] == [[(0, [0, 1, 2], [1.0, 0.5, 0.4])], [(1, [0, 1, 2], [1.0, 0.3, 0.2])],
                                             [(2, [0, 1, 2], [1.0, 0.9, 0.8])], [(3, [0, 1, 2], [2.0, 1.5, 1.0])]]
    assert [r.glyph.line_color for r in loss] == list(RUN_PALETTE[:4])
    assert all(r.visible for r in acc) and not any(r.visible for r in loss)  # the first metric shows first
    assert list(loss[0].data_source.data["time"]) == [0.0, 1.0, 2.0]
    [best_loss] = _renderers(layout, "best:loss")
    assert _curves_of(best_loss) == [(1, [0, 1, 2], [1.0, 0.3, 0.2])]  # b: the lowest loss
    assert best_loss.glyph.line_width > loss[0].glyph.line_width
    [best_acc] = _renderers(layout, "best:acc")
    assert _curves_of(best_acc)[0][0] == 1  # b: the highest acc
    [legend] = [leg for leg in layout.select({"type": Legend}) if leg.click_policy == "mute"]
    assert [item.label.value for item in legend.items] == ["a", "b", "c", "d"]


def test_metric_curves_controls_drive_one_callback(cmp):
    layout = metric_curves(cmp)
    [metric] = [s for s in layout.select({"type": Select}) if s.title == "Metric"]
    [group] = [s for s in layout.select({"type": Select}) if s.title == "Group by"]
    [smooth] = layout.select({"type": Slider})
    [log] = layout.select({"type": Toggle})
    [xaxis] = layout.select({"type": RadioButtonGroup})
    assert metric.options == ["acc", "loss"] and metric.value == "acc"
    assert [v for v, _ in group.options] == ["", "params.lr", "params.optimizer", "tags.team"]
    assert xaxis.labels == ["step", "time"] and (smooth.start, smooth.end) == (0, 0.99)
    callbacks = {id(cb) for w, attr in ((metric, "value"), (group, "value"), (smooth, "value"), (log, "active"),
                                        (xaxis, "active")) for cb in _callbacks(w, attr)}
    assert len(callbacks) == 1
    [cb] = _callbacks(metric, "value")
    groups = cb.args["groups"]
    assert groups["params.optimizer"]["labels"] == ["adam", "sgd"]
    assert list(groups["params.optimizer"]["codes"]) == [0, 1, 0, 1]
    assert set(cb.args["renderers"]) == {"acc", "loss"}


def test_many_runs_are_coloured_by_value_in_a_few_renderers(tracking, alice):
    n = MAX_RUN_COLORS + 10
    ids = [log_run(tracking, alice, "many", f"r{i}", params={"lr": str(i)}, metrics={"loss": [1.0, 1.0 / (i + 1)]})
           for i in range(n)]
    cmp = build_comparison(tracking, alice, ids)
    layout = metric_curves(cmp)
    loss = _renderers(layout, "curves:loss")
    assert len(loss) == VALUE_CLASSES  # not one per run
    runs_drawn = sorted(run for r in loss for run, _, _ in _curves_of(r))
    assert runs_drawn == list(range(n))
    # dark for low final loss, bright for high: the class holding r0 (loss 1.0) is the last
    assert 0 in [run for run, _, _ in _curves_of(loss[-1])]
    assert not [leg for leg in layout.select({"type": Legend}) if leg.click_policy == "mute"]
    source_colors = runs_source(cmp).data["color"]
    assert len(set(source_colors)) > 1 and len(source_colors) == n


def test_parallel_coordinates_normalize_each_axis_and_brush_by_box(cmp):
    src = runs_source(cmp)
    layout = parallel_coordinates(cmp, source=src)
    # axes: lr, optimizer, acc, loss (seed is the same in every run: not an axis)
    assert src.data["_pxs"][0] == [0, 1, 2, 3]
    ys = np.array(src.data["_pys"])
    assert list(ys[:, 0]) == [1.0, 0.5, 0.0, 0.5]  # lr spans two decades: a log axis
    assert list(ys[:, 1]) == [0.0, 1.0, 0.0, 1.0]  # adam at the bottom, sgd at the top
    assert list(ys[:, 2]) == pytest.approx([(0.8 - 0.3) / 0.6, 1.0, (0.4 - 0.3) / 0.6, 0.0], abs=1e-4)
    assert list(ys[:, 3]) == pytest.approx([0.25, 0.0, 0.75, 1.0], abs=1e-4)
    [lines] = [r for r in layout.select({"type": GlyphRenderer}) if isinstance(r.glyph, MultiLine)]
    assert lines.data_source is src and lines.nonselection_glyph.line_alpha < 0.1
    labels = [r for r in layout.select({"type": GlyphRenderer}) if "text" in r.data_source.data]
    assert {"adam", "sgd", "0.001", "0.1"} <= set(labels[0].data_source.data["text"])
    [box] = layout.select({"type": BoxSelectTool})
    plots = [m for m in layout.references() if "selectiongeometry" in m.js_event_callbacks]
    assert len(plots) == 1 and box in plots[0].toolbar.tools and plots[0].toolbar.active_drag is box
    [cb] = plots[0].js_event_callbacks["selectiongeometry"]
    assert cb.args["runs"] is src and cb.args["n_axes"] == 4 and cb.args["brush_source"].data["axis"] == []


def test_scatter_plots_two_columns_coloured_by_a_third(cmp):
    src = runs_source(cmp)
    layout = scatter_view(cmp, source=src)
    selects = {s.title: s for s in layout.select({"type": Select})}
    assert (selects["x"].value, selects["y"].value, selects["Colour"].value) == ("params.lr", "metrics.acc", "index")
    assert ("params.optimizer", "params.optimizer") in selects["x"].options
    assert list(src.data["_sx"]) == [0.1, 0.01, 0.001, 0.01]
    assert list(src.data["_sy"]) == [0.8, 0.9, 0.4, 0.3]
    assert list(src.data["_sc"]) == [0, 1, 2, 3]
    [cb] = _callbacks(selects["x"], "value")
    assert cb.args["factors"]["params.optimizer"] == ["adam", "sgd"]
    assert cb.args["best"] == {"metrics.acc": 1, "metrics.loss": 1}
    star = cb.args["best_source"]
    assert star.data == {"x": [0.01], "y": [0.9]}  # run b, the best acc


def test_diff_table_flags_equal_columns_and_highlights_the_best(cmp):
    layout = diff_table(cmp)
    [table] = layout.select({"type": DataTable})
    by_field = {c.field: c for c in table.columns}
    assert list(by_field) == ["name", "experiment", "status", "params.lr", "params.optimizer", "params.seed",
                              "metrics.acc", "metrics.loss", "tags.team"]
    assert "equal" in by_field["params.seed"].tags
    assert not [f for f, c in by_field.items() if "equal" in c.tags and f != "params.seed"]
    loss_fmt = by_field["metrics.loss"].formatter
    mapper = loss_fmt.background_color.transform
    assert mapper.high == 0.2 and mapper.low < 0.2  # lower is better: only 0.2 (run b) is highlighted
    acc_mapper = by_field["metrics.acc"].formatter.background_color.transform
    assert acc_mapper.low == 0.9 and acc_mapper.high > 0.9
    [toggle] = layout.select({"type": CheckboxGroup})
    [cb] = _callbacks(toggle, "active")
    assert cb.args["columns"] == table.columns and "1 columns" in toggle.labels[0]


def test_column_titles_are_escaped_for_the_grid(tracking, alice):
    # Keys cannot hold markup, but values and names can: titles are escaped anyway.
    run = log_run(tracking, alice, "x", "<b>bold</b>", params={"p": "<img src=x onerror=alert(1)>"},
                  metrics={"loss": [1.0]})
    cmp = build_comparison(tracking, alice, [run])
    [table] = diff_table(cmp).select({"type": DataTable})
    assert all("<" not in c.title for c in table.columns)
    assert runs_source(cmp).data["params.p"] == ["<img src=x onerror=alert(1)>"]  # data, shown as text


def test_best_runs_table(cmp):
    [table] = best_runs_table(cmp).select({"type": DataTable})
    data = table.source.data
    assert data["metric"] == ["acc", "loss"] and data["run"] == ["b", "b"]
    assert data["direction"] == ["higher is better", "lower is better"] and data["value"] == [0.9, 0.2]


def test_groups_view_has_each_groups_mean_and_spread(cmp):
    layout = groups_view(cmp)
    [table] = layout.select({"type": DataTable})
    data = table.source.data
    rows = [i for i, c in enumerate(data["column"]) if c == "params.optimizer"]
    assert [data["group"][i] for i in rows] == ["adam", "sgd"]
    adam, sgd = rows
    assert data["runs"][adam] == 2
    assert data["mean:loss"][adam] == pytest.approx(0.6) and data["std:loss"][adam] == pytest.approx(0.2)
    assert data["mean:acc"][sgd] == pytest.approx(0.6) and data["std:acc"][sgd] == pytest.approx(0.3)
    [flt] = layout.select({"type": GroupFilter})
    assert flt.column_name == "column" and flt.group == "params.lr"
    [select] = layout.select({"type": Select})
    assert select.options == ["params.lr", "params.optimizer", "tags.team"]


def test_compare_view_puts_every_view_in_tabs_and_serializes(cmp):
    view = compare_view(cmp, title="lr sweep")
    [tabs] = view.select({"type": Tabs})
    assert [t.title for t in tabs.tabs] == ["Curves", "Parallel coordinates", "Scatter", "Table", "Best runs",
                                            "Groups"]
    item = json_item(view)
    text = json.dumps(item)
    assert "lr sweep" in text
    # One runs source is shared by parallel coordinates, scatter and table: brushing links them.
    shared = [s for s in view.select({"type": ColumnDataSource}) if "_pys" in s.data]
    assert len(shared) == 1 and "_sx" in shared[0].data


def test_a_single_run_without_metrics_still_makes_a_view(tracking, alice):
    run = log_run(tracking, alice, "bare", "bare", params={"a": "1"})
    cmp = build_comparison(tracking, alice, [run])
    json.dumps(json_item(compare_view(cmp)))
    assert not _renderers(compare_view(cmp), "curves:")


def test_compare_payload_answers_the_rest_contract(tracking, alice, cmp):
    view = compare_payload(tracking, alice, models.CompareRequest(run_ids=[r.run_id for r in cmp.runs],
                                                                  metrics=["loss"]))
    assert (view.run_count, view.metrics, view.downsampled) == (4, ["loss"], False)
    assert {"doc", "root_id"} <= set(view.item) and view.item["doc"]["roots"]
    models.CompareView.model_validate_json(view.model_dump_json())


def test_runs_table_is_sortable_and_searchable(tracking, alice, cmp):
    from workbench.tracking.fluent import runs_frame

    frame = runs_frame(tracking.get_runs(alice, [r.run_id for r in cmp.runs]))
    layout = runs_table(frame)
    [table] = layout.select({"type": DataTable})
    assert table.sortable and table.source.data["name"] == ["a", "b", "c", "d"]
    assert list(table.source.data["metrics.loss"]) == [0.4, 0.2, 0.8, 1.0]
    titles = [c.title for c in table.columns]
    assert titles[:3] == ["run_id", "experiment_id", "name"] and "params.lr" in titles
    [flt] = [cb for m in layout.references() for cb in _callbacks(m, "value_input")]
    assert "params.optimizer" in flt.args["text_columns"] and "name" in flt.args["text_columns"]
