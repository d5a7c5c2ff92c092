"""The public SDK as a notebook uses it, embedded and over HTTP to a live server."""

import math

import pandas as pd
import pytest

from workbench import models


def test_the_design_contract_end_to_end(sdk, tmp_path):
    wb = sdk
    wb.set_experiment("churn")
    (tmp_path / "plot.png").write_bytes(b"\x89PNG fake")
    df = pd.DataFrame({"age": [31, 45, 22], "churned": [0, 1, 0]})
    with wb.start_run(name="rf", tags={"team": "growth"}) as run:
        wb.log_params({"n_estimators": 200})
        wb.log_param("max_depth", 8)
        wb.log_metric("auc", 0.91, step=1)
        wb.log_metrics({"loss": 0.3}, step=1)
        wb.log_metric("loss", 0.2, step=2)
        wb.log_artifact(tmp_path / "plot.png")
        ds = wb.log_dataset(df, name="train")
    assert run.id == run.info.run_id and len(run.id) == 32
    assert ds.version == 1 and ds.num_rows == 3 and ds.schema_ == {"age": "int64", "churned": "int64"}

    got = wb.get_run(run.id)
    assert got.info.status == models.RunStatus.FINISHED and got.info.end_time >= got.info.start_time
    assert got.data.params == {"n_estimators": "200", "max_depth": "8"}
    assert got.data.metrics == {"auc": 0.91, "loss": 0.2}
    assert got.data.tags == {"team": "growth"}
    assert [d.name for d in got.datasets] == ["train"]

    frame = wb.search_runs(experiment="churn", filter="metrics.auc > 0.9", order_by=["metrics.auc DESC"])
    assert list(frame.columns) == ["run_id", "experiment_id", "name", "status", "start_time", "end_time", "user",
                                   "params.max_depth", "params.n_estimators", "metrics.auc", "metrics.loss",
                                   "tags.team"]
    assert frame.loc[0, "run_id"] == run.id and frame.loc[0, "status"] == "FINISHED"
    assert isinstance(frame.loc[0, "start_time"], pd.Timestamp)

    hist = wb.get_metric_history(run.id, "loss")
    assert list(hist.columns) == ["step", "value", "timestamp"]
    assert hist["step"].tolist() == [1, 2] and hist["value"].tolist() == [0.3, 0.2]


def test_run_records_how_to_reproduce_it(sdk):
    with sdk.start_run() as run:
        pass
    env = __import__("workbench.client", fromlist=["get_client"]).get_client().get_environment(run.id)
    assert env.python_version and "pandas" in env.packages and env.packages["pandas"] == pd.__version__


def test_search_language_and_ordering(sdk):
    wb = sdk
    wb.set_experiment("grid")
    for depth in range(4):
        with wb.start_run(name=f"d{depth}"):
            wb.log_param("depth", depth)
            wb.log_metric("auc", 0.5 + depth / 10)
            wb.set_tag("team", "a" if depth % 2 else "b")
    names = lambda f, o=None: wb.search_runs(experiment="grid", filter=f, order_by=o)["name"].tolist()  # noqa: E731
    assert names("metrics.auc > 0.65", ["metrics.auc DESC"]) == ["d3", "d2"]
    assert names("params.depth = '1' or params.depth = '2'", ["params.depth ASC"]) == ["d1", "d2"]
    assert names("tags.team != 'a' and attributes.status = 'FINISHED'", ["attributes.run_name"]) == ["d0", "d2"]
    assert names("attributes.run_name like 'd%' and metrics.auc <= 0.6", ["metrics.auc"]) == ["d0", "d1"]


@pytest.mark.parametrize("bad_filter, expected", [
    ("metrics.auc >", "position"),
    ("params.depth = 4", "quote the value"),
    ("metrics.auc = 'high'", "number"),
    ("attributes.colour = 'red'", "Unknown attribute"),
])
def test_malformed_filters_say_what_is_wrong(sdk, bad_filter, expected):
    sdk.set_experiment("f")
    with pytest.raises(sdk.InvalidArgument, match=expected):
        sdk.search_runs(experiment="f", filter=bad_filter)


def test_bad_calls_fail_at_once_in_the_notebook(sdk):
    wb = sdk
    with wb.start_run():
        with pytest.raises(wb.InvalidArgument, match="must be a number"):
            wb.log_metric("auc", "high")
        with pytest.raises(wb.InvalidArgument, match="integer"):
            wb.log_metric("auc", 0.5, step=1.5)
        with pytest.raises(wb.InvalidArgument, match="Invalid metric key"):
            wb.log_metric("", 1.0)
        wb.log_param("lr", 0.1)
        with pytest.raises(wb.Conflict, match="params cannot change"):
            wb.log_param("lr", 0.2)
    with pytest.raises(wb.NotFound, match="No run"):
        wb.get_run("0" * 32)
    with pytest.raises(wb.InvalidArgument, match="No experiment named"):
        wb.search_runs(experiment="does-not-exist")


def test_exceptions_fail_the_run_and_runs_nest(sdk):
    wb = sdk
    with pytest.raises(ZeroDivisionError):
        with wb.start_run() as failed:
            1 / 0
    assert wb.get_run(failed.id).info.status == models.RunStatus.FAILED
    with wb.start_run() as parent:
        with pytest.raises(wb.Conflict, match="nested=True"):
            wb.start_run()
        with wb.start_run(nested=True) as child:
            pass
    assert wb.get_run(child.id).data.tags["workbench.parent_run_id"] == parent.id
    assert wb.active_run() is None


def test_logging_without_a_run_starts_one_like_mlflow(sdk):
    sdk.log_metric("x", 1.0)
    run = sdk.active_run()
    assert run is not None and sdk.get_experiment().name == "Default"
    sdk.end_run()
    assert sdk.get_run(run.id).data.metrics == {"x": 1.0}


def test_many_points_are_all_stored_by_end_run(sdk):
    wb = sdk
    with wb.start_run() as run:
        for i in range(5000):
            wb.log_metric("loss", 1 / (i + 1), step=i)
        wb.log_metric("nan", math.nan)
    hist = wb.get_metric_history(run.id, "loss")
    assert len(hist) == 5000 and hist["step"].is_monotonic_increasing
    assert math.isnan(wb.get_run(run.id).data.metrics["nan"])


def test_artifacts_of_a_directory_and_text(sdk, tmp_path):
    wb = sdk
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "a.txt").write_text("a")
    (out / "sub" / "b.csv").write_text("x,y\n1,2\n")
    with wb.start_run() as run:
        wb.log_artifacts(out, artifact_path="results")
        wb.log_text("# notes", "notes/summary.md")
    from workbench.client import get_client

    assert [a.path for a in get_client().list_artifacts(run.id)] == [
        "notes/summary.md", "results/a.txt", "results/sub/b.csv"]
    assert get_client().get_artifact(run.id, "results/sub/b.csv") == b"x,y\n1,2\n"
    with pytest.raises(wb.InvalidArgument, match="No file"):
        with wb.start_run():
            wb.log_artifact(tmp_path / "missing.png")


def test_same_data_same_dataset_version(sdk):
    df = pd.DataFrame({"a": [1, 2, 3]})
    with sdk.start_run():
        v1 = sdk.log_dataset(df, name="train")
    with sdk.start_run():
        same = sdk.log_dataset(df.copy(), name="train")
        v2 = sdk.log_dataset(df.assign(a=[1, 2, 4]), name="train", context="eval")
    assert (v1.version, same.version, v2.version) == (1, 1, 2) and v1.digest == same.digest != v2.digest


def test_start_run_does_not_wait_and_creation_errors_surface_at_end_run(sdk):
    from workbench.client import get_client

    exp = sdk.set_experiment("soon-gone")
    run = sdk.start_run(name="orphan")
    assert run.info.name == "orphan" and run.info.status == models.RunStatus.RUNNING and run.info.user
    sdk.end_run()
    get_client().delete_run(run.id)
    # The experiment disappears before the next run's creation reaches the server.
    transport = get_client()
    if hasattr(transport, "tracking"):
        transport.tracking.delete_experiment(transport.user, exp.id)
    else:
        transport._call("DELETE", f"/experiments/{exp.id}")
    sdk.start_run()
    sdk.log_metric("x", 1.0)
    with pytest.raises(sdk.NotFound, match="No experiment"):
        sdk.end_run()


def test_metric_history_of_many_runs_in_one_call(sdk):
    ids = []
    for r in range(3):
        with sdk.start_run() as run:
            for step in range(4):
                sdk.log_metric("loss", r + step / 10, step=step)
            sdk.log_metric("other", 1.0)
        ids.append(run.id)
    frame = sdk.get_metric_history(ids[::-1], "loss")
    assert list(frame.columns) == ["run_id", "step", "value", "timestamp"]
    assert frame["run_id"].tolist() == [ids[2]] * 4 + [ids[1]] * 4 + [ids[0]] * 4  # in the order asked
    assert frame[frame.run_id == ids[1]]["value"].tolist() == [1.0, 1.1, 1.2, 1.3]
    with pytest.raises(sdk.NotFound):
        sdk.get_metric_history([ids[0], "f" * 32], "loss")
    assert sdk.get_metric_history([], "loss").empty
