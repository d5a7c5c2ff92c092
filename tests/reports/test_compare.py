"""The data of a comparison: runs read through the real Tracking service, curves downsampled to a
budget, and what the views highlight (best run, equal columns, groups)."""

import math

import numpy as np
import pytest

from tests.reports import T0, log_run
from workbench.errors import InvalidArgument, NotFound
from workbench.reports.compare import (
    DEFAULT_METRICS,
    MAX_RUNS,
    MISSING_GROUP,
    best_runs,
    build_comparison,
    downsample_indices,
    equal_columns,
    group_runs,
    groupable_columns,
    metric_direction,
)


@pytest.fixture
def three(tracking, alice):
    """Three runs of alice: params lr/optimizer/seed, metrics loss and acc by step, a tag."""
    a = log_run(tracking, alice, "sweep", "a", params={"lr": "0.1", "optimizer": "adam", "seed": "1"},
                tags={"team": "growth"}, metrics={"loss": [1.0, 0.5, 0.4], "acc": [0.5, 0.7, 0.8]}, start_time=T0)
    b = log_run(tracking, alice, "sweep", "b", params={"lr": "0.01", "optimizer": "sgd", "seed": "1"},
                tags={"team": "growth"}, metrics={"loss": [1.0, 0.3, 0.2], "acc": [0.4, 0.6, 0.9]},
                start_time=T0 + 5000, step_ms=2000)
    c = log_run(tracking, alice, "sweep", "c", params={"lr": "0.001", "optimizer": "adam", "seed": "1"},
                tags={"team": "growth"}, metrics={"loss": [1.0, 0.9, 0.8], "acc": [0.3, 0.35, 0.4]},
                start_time=T0 + 9000)
    return [a, b, c]


def test_runs_come_in_the_order_given_with_what_they_logged(tracking, alice, three):
    a, b, c = three
    cmp = build_comparison(tracking, alice, [c, a, b, a])  # a repeat is dropped
    assert [r.name for r in cmp.runs] == ["c", "a", "b"]
    assert cmp.runs[1].params == {"lr": "0.1", "optimizer": "adam", "seed": "1"}
    assert cmp.runs[1].metrics == {"loss": 0.4, "acc": 0.8}
    assert cmp.runs[1].tags == {"team": "growth"}
    assert {r.experiment for r in cmp.runs} == {"sweep"} and {r.status for r in cmp.runs} == {"FINISHED"}
    assert cmp.param_keys == ["lr", "optimizer", "seed"] and cmp.metric_keys == ["acc", "loss"]
    assert cmp.tag_keys == ["team"] and cmp.metrics == ["acc", "loss"]
    assert not cmp.downsampled and cmp.point_count == cmp.logged_points == 18
    assert cmp.column("params.lr") == ["0.001", "0.1", "0.01"]


def test_curves_hold_every_point_by_step_and_by_time_since_the_run_started(tracking, alice, three):
    a, b, c = three
    cmp = build_comparison(tracking, alice, [a, b, c], metrics=["loss"])
    assert cmp.metrics == ["loss"] and list(cmp.curves) == ["loss"]
    loss = cmp.curves["loss"]
    assert list(loss.runs) == [0, 1, 2]
    steps, times, values = loss.of_run(1)
    assert list(steps) == [0, 1, 2] and list(values) == [1.0, 0.3, 0.2]
    assert list(times) == [0.0, 2.0, 4.0]  # b logged a point every 2 s from its start
    assert list(loss.of_run(0)[1]) == [0.0, 1.0, 2.0]


def test_a_run_without_the_metric_has_no_curve(tracking, alice, three):
    d = log_run(tracking, alice, "sweep", "d", params={"lr": "0.5"}, metrics={"acc": [0.1, 0.2]})
    cmp = build_comparison(tracking, alice, [*three, d], metrics=["loss", "acc"])
    assert list(cmp.curves["loss"].runs) == [0, 1, 2]
    assert list(cmp.curves["acc"].runs) == [0, 1, 2, 3]
    assert cmp.curves["loss"].of_run(3) is None


def test_nobody_compares_runs_they_cannot_see(tracking, alice, bob, three):
    with pytest.raises(NotFound, match=three[0]) as err:
        build_comparison(tracking, bob, three)
    assert "sweep" not in str(err.value) and "adam" not in str(err.value)
    mine = log_run(tracking, bob, "bobs", "mine", metrics={"loss": [1.0]})
    with pytest.raises(NotFound, match=three[1]):
        build_comparison(tracking, bob, [mine, three[1]])
    with pytest.raises(NotFound, match="0123456789abcdef0123456789abcdef"):
        build_comparison(tracking, alice, [three[0], "0123456789abcdef0123456789abcdef"])
    assert [r.name for r in build_comparison(tracking, bob, [mine]).runs] == ["mine"]


@pytest.mark.parametrize("run_ids, kwargs, words", [
    ([], {}, "at least one run"),
    (None, {}, "at least one run"),
    (["x"] * (MAX_RUNS + 1), {}, "At most 10,000 runs"),
    ("RUNS", {"metrics": ["nope"]}, "None of these runs logged metric 'nope'; they logged: acc, loss"),
    ("RUNS", {"metrics": "loss"}, "list of metric names"),
    ("RUNS", {"max_points": 0}, "max_points must be between"),
    ("RUNS", {"max_points": 10 ** 9}, "max_points must be between"),
    ("RUNS", {"max_points": 5}, "raise it to at least 12"),
])
def test_bad_input_is_refused_with_a_message(tracking, alice, three, run_ids, kwargs, words):
    with pytest.raises(InvalidArgument, match=words):
        build_comparison(tracking, alice, three if run_ids == "RUNS" else run_ids, **kwargs)


def test_more_than_ten_metrics_draw_the_first_ten_unless_named(tracking, alice):
    names = [f"m{i:02d}" for i in range(DEFAULT_METRICS + 2)]
    run = log_run(tracking, alice, "wide", "wide", metrics={k: [1.0, 2.0] for k in names})
    cmp = build_comparison(tracking, alice, [run])
    assert cmp.metrics == names[:DEFAULT_METRICS] and cmp.omitted_metrics == names[DEFAULT_METRICS:]
    assert cmp.metric_keys == names
    assert build_comparison(tracking, alice, [run], metrics=["m11"]).metrics == ["m11"]


def _wave(n, *, spike_at=None):
    values = [math.sin(i / 25) for i in range(n)]
    if spike_at is not None:
        values[spike_at] = 50.0
    return values


def test_downsampling_caps_the_points_and_keeps_first_last_and_spikes(tracking, alice):
    runs = [log_run(tracking, alice, "long", f"r{i}", metrics={"loss": _wave(1000, spike_at=333 + i)})
            for i in range(3)]
    # 3,000 points against a budget of 1,000: all read, each curve keeps its buckets' extremes.
    cmp = build_comparison(tracking, alice, runs, max_points=1000)
    assert cmp.downsampled and cmp.logged_points == 3000
    assert 900 <= cmp.point_count <= 1000
    for i in range(3):
        steps, _times, values = cmp.curves["loss"].of_run(i)
        assert len(steps) <= 334
        assert steps[0] == 0 and steps[-1] == 999  # first and last kept
        assert 333 + i in steps and values.max() == 50.0  # the spike survives
        assert list(steps) == sorted(steps)


def test_far_over_budget_curves_are_thinned_in_the_database_evenly(tracking, alice):
    # 4 runs x 1,000 points against a budget of 200: more than 3x over, so thinned by the store.
    runs = [log_run(tracking, alice, "huge", f"r{i}", metrics={"loss": _wave(1000)}) for i in range(3)]
    uneven = log_run(tracking, alice, "huge", "uneven",
                     metrics={"loss": [(s, 1.0) for s in (*range(0, 900, 3), 905, 990, 1234)]})
    cmp = build_comparison(tracking, alice, [*runs, uneven], max_points=200)
    assert cmp.downsampled and cmp.logged_points == 3 * 1000 + 303
    assert cmp.point_count <= 200
    for i in range(4):
        steps = cmp.curves["loss"].of_run(i)[0]
        assert steps[0] == 0 and steps[-1] == (999 if i < 3 else 1234)
        assert 2 <= len(steps) <= 50
    gaps = np.diff(cmp.curves["loss"].of_run(0)[0])
    assert len(set(gaps[:-1])) == 1  # every k-th step


def test_downsample_indices_keeps_each_buckets_lowest_and_highest():
    values = np.array([0.0, 5, 1, 2, 9, 3, 7, 7])
    assert list(downsample_indices(np.array([6, 2]), values, 4)) == [0, 2, 4, 5, 6, 7]
    assert list(downsample_indices(np.array([6]), values[:6], 2)) == [0, 5]
    with_nan = np.array([0.0, np.nan, 1, 2, 9, 3, np.nan, np.nan, np.nan, 5])
    assert list(downsample_indices(np.array([10]), with_nan, 6)) == [0, 2, 4, 5, 9]
    assert list(downsample_indices(np.array([3]), values[:3], 10)) == [0, 1, 2]


@pytest.mark.parametrize("key, direction", [
    ("loss", "min"), ("val_loss", "min"), ("valLoss", "min"), ("train/loss", "min"), ("rmse", "min"),
    ("test_mae", "min"), ("error_rate", "min"), ("logloss", "min"), ("perplexity", "min"), ("step_time", "min"),
    ("latency_ms", "min"), ("wer", "min"), ("acc", "max"), ("accuracy", "max"), ("auc", "max"), ("f1", "max"),
    ("reward", "max"), ("power", "max"), ("answer_len", "max"), ("r2", "max"),
])
def test_metric_direction_follows_the_documented_rule(key, direction):
    assert metric_direction(key) == direction


def test_the_best_run_per_metric(tracking, alice, three):
    d = log_run(tracking, alice, "sweep", "d", metrics={"loss": [float("nan")], "acc": [0.9]})
    cmp = build_comparison(tracking, alice, [*three, d])
    best = best_runs(cmp)
    assert (cmp.runs[best["loss"].run_index].name, best["loss"].value, best["loss"].direction) == ("b", 0.2, "min")
    # acc 0.9: b and d tie, the first in the comparison's order wins
    assert (cmp.runs[best["acc"].run_index].name, best["acc"].direction) == ("b", "max")
    only_nan = build_comparison(tracking, alice, [d], metrics=["loss"])
    assert "loss" not in best_runs(only_nan)


def test_equal_columns_are_flagged(tracking, alice, three):
    d = log_run(tracking, alice, "sweep", "d", params={"lr": "0.1", "optimizer": "adam"},
                tags={"team": "growth"}, metrics={"loss": [0.4], "acc": [0.8]})
    cmp = build_comparison(tracking, alice, [three[0], d])
    # seed: only one of the two runs set it, so it differs; every other column is alike
    assert equal_columns(cmp) == {"params.lr", "params.optimizer", "tags.team", "metrics.loss", "metrics.acc"}
    cmp = build_comparison(tracking, alice, three)
    assert equal_columns(cmp) == {"params.seed", "tags.team"}


def test_groups_have_the_right_means_and_spreads(tracking, alice, three):
    d = log_run(tracking, alice, "sweep", "d", params={"lr": "0.1"}, metrics={"loss": [0.7], "acc": [0.1]})
    cmp = build_comparison(tracking, alice, [*three, d])
    assert groupable_columns(cmp) == ["params.lr", "params.optimizer", "params.seed", "tags.team"]
    groups = {g.label: g for g in group_runs(cmp, "params.optimizer")}
    assert list(groups) == ["adam", "sgd", MISSING_GROUP]
    adam = groups["adam"]
    assert adam.run_indices == [0, 2]
    assert adam.mean["loss"] == pytest.approx((0.4 + 0.8) / 2) and adam.std["loss"] == pytest.approx(0.2)
    assert adam.mean["acc"] == pytest.approx(0.6) and adam.count["acc"] == 2
    assert groups["sgd"].mean["loss"] == pytest.approx(0.2) and groups["sgd"].std["loss"] == 0.0
    assert groups[MISSING_GROUP].run_indices == [3]
    by_lr = [g.label for g in group_runs(cmp, "params.lr")]
    assert by_lr == ["0.001", "0.01", "0.1"]  # numbers in numeric order
    assert group_runs(cmp, "params.lr")[2].mean["loss"] == pytest.approx((0.4 + 0.7) / 2)
    with pytest.raises(InvalidArgument, match="param or tag"):
        group_runs(cmp, "metrics.loss")
