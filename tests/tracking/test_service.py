"""The tracking service on a real database, without a server."""

import math

import pytest

from workbench import models
from workbench.clock import now_ms
from workbench.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from workbench.tracking.artifacts import Artifacts


def _run(tracking, user, exp_name="exp", **kw):
    exp = tracking.create_experiment(user, exp_name, exist_ok=True)
    return tracking.create_run(user, models.RunCreate(experiment_id=exp.id, **kw))


def _batch(metrics=(), params=(), tags=()):
    ts = now_ms()
    return models.LogBatch(
        metrics=[models.MetricPoint(key=k, value=v, step=s, timestamp=ts) for k, v, s in metrics],
        params=[models.Param(key=k, value=v) for k, v in params],
        tags=[models.Tag(key=k, value=v) for k, v in tags],
    )


def test_experiment_names_are_unique_per_owner(tracking, alice, bob):
    a = tracking.create_experiment(alice, "churn")
    with pytest.raises(AlreadyExists, match="churn"):
        tracking.create_experiment(alice, "churn")
    assert tracking.create_experiment(alice, "churn", exist_ok=True).id == a.id
    assert tracking.create_experiment(bob, "churn").id != a.id  # bob has his own


def test_run_records_environment_and_default_name(tracking, alice):
    env = models.RunEnvironment(notebook_path="/w/train.ipynb", git_commit="abc123", python_version="3.11.7",
                                packages={"pandas": "2.2.0"}, source='{"cells": []}')
    run = _run(tracking, alice, environment=env, kernel_id="k1")
    assert run.info.status == models.RunStatus.RUNNING
    assert run.info.name.count("-") == 2  # "brave-otter-42"
    got = tracking.get_environment(alice, run.id)
    assert got == env
    assert tracking.get_run(alice, run.id).info.kernel_id == "k1"


def test_log_batch_stores_params_metrics_tags(tracking, alice):
    run = _run(tracking, alice)
    tracking.log_batch(alice, run.id, _batch(metrics=[("loss", 0.5, 0), ("loss", 0.3, 1)],
                                             params=[("depth", "4")], tags=[("team", "growth")]))
    got = tracking.get_run(alice, run.id)
    assert got.data.params == {"depth": "4"}
    assert got.data.metrics == {"loss": 0.3}
    assert got.data.tags == {"team": "growth"}
    hist = tracking.get_metric_history(alice, run.id, "loss")
    assert [(p.step, p.value) for p in hist.points] == [(0, 0.5), (1, 0.3)]


def test_latest_metric_is_highest_step_even_when_logged_late(tracking, alice):
    run = _run(tracking, alice)
    tracking.log_batch(alice, run.id, _batch(metrics=[("acc", 0.9, 10)]))
    tracking.log_batch(alice, run.id, _batch(metrics=[("acc", 0.1, 2)]))  # a late, older step
    assert tracking.get_run(alice, run.id).data.metrics["acc"] == 0.9
    steps = [p.step for p in tracking.get_metric_history(alice, run.id, "acc").points]
    assert steps == [2, 10]  # history in step order, not arrival order


def test_nan_and_infinite_metrics_round_trip(tracking, alice):
    run = _run(tracking, alice)
    tracking.log_batch(alice, run.id, _batch(metrics=[("loss", math.nan, 0), ("big", math.inf, 0)]))
    data = tracking.get_run(alice, run.id).data
    assert math.isnan(data.metrics["loss"]) and data.metrics["big"] == math.inf
    # and through JSON, as the REST API sends them
    again = models.Run.model_validate_json(tracking.get_run(alice, run.id).model_dump_json())
    assert math.isnan(again.data.metrics["loss"])


def test_params_are_immutable_and_a_failed_batch_writes_nothing(tracking, alice):
    run = _run(tracking, alice)
    tracking.log_batch(alice, run.id, _batch(params=[("depth", "4")]))
    tracking.log_batch(alice, run.id, _batch(params=[("depth", "4")]))  # same value: fine
    with pytest.raises(Conflict, match="already '4'"):
        tracking.log_batch(alice, run.id, _batch(metrics=[("loss", 1.0, 0)], params=[("depth", "5")]))
    assert tracking.get_metric_history(alice, run.id, "loss").points == []  # all or nothing


@pytest.mark.parametrize("key", ["", " lead", "a" * 251, "bad\nkey", "/abs", "a//b"])
def test_bad_keys_are_rejected(tracking, alice, key):
    run = _run(tracking, alice)
    with pytest.raises(InvalidArgument, match="Invalid metric key"):
        tracking.log_batch(alice, run.id, _batch(metrics=[(key, 1.0, 0)]))


def test_other_users_cannot_see_or_touch_runs(tracking, alice, bob):
    run = _run(tracking, alice, name="secret-run")
    for call in (
        lambda: tracking.get_run(bob, run.id),
        lambda: tracking.log_batch(bob, run.id, _batch(metrics=[("x", 1.0, 0)])),
        lambda: tracking.update_run(bob, run.id, models.RunUpdate(status=models.RunStatus.FAILED)),
        lambda: tracking.delete_run(bob, run.id),
        lambda: tracking.get_metric_history(bob, run.id, "x"),
        lambda: tracking.get_experiment(bob, run.info.experiment_id),
    ):
        with pytest.raises(NotFound) as err:
            call()
        assert "secret-run" not in str(err.value) and "alice" not in str(err.value)
    assert tracking.list_experiments(bob) == []
    page = tracking.search_runs(bob, models.RunsQuery())
    assert page.runs == [] and page.total == 0
    with pytest.raises(NotFound):
        tracking.search_runs(bob, models.RunsQuery(experiment_ids=[run.info.experiment_id]))


def test_team_members_see_team_experiments(tracking, tenancy, alice, bob, store):
    from workbench.store.tables import ExperimentRow

    team_id = tenancy.create_team("growth")
    tenancy.add_member("growth", "alice")
    tenancy.add_member("growth", "bob")
    run = _run(tracking, alice, exp_name="shared")
    with store.session() as s:
        s.get(ExperimentRow, run.info.experiment_id).team_id = team_id
    bob = tenancy.get_user("bob")
    assert tracking.get_run(bob, run.id).id == run.id
    assert [e.name for e in tracking.list_experiments(bob)] == ["shared"]


def test_end_run_and_counts(tracking, alice):
    run = _run(tracking, alice)
    _run(tracking, alice)
    exp = tracking.get_experiment(alice, run.info.experiment_id)
    assert (exp.run_count, exp.active_run_count) == (2, 2)
    info = tracking.update_run(alice, run.id, models.RunUpdate(status=models.RunStatus.FINISHED))
    assert info.status == models.RunStatus.FINISHED and info.end_time >= info.start_time
    assert tracking.get_experiment(alice, run.info.experiment_id).active_run_count == 1


def test_end_time_before_start_is_rejected(tracking, alice):
    run = _run(tracking, alice)
    with pytest.raises(InvalidArgument, match="before"):
        tracking.update_run(alice, run.id, models.RunUpdate(status=models.RunStatus.FINISHED, end_time=1))


def test_search_pages_sorts_filters_and_counts(tracking, alice):
    exp = tracking.create_experiment(alice, "grid")
    for i in range(30):
        run = tracking.create_run(alice, models.RunCreate(experiment_id=exp.id, name=f"r{i:02d}"))
        tracking.log_batch(alice, run.id, _batch(metrics=[("auc", i / 30, 0)], params=[("depth", str(i % 3))]))
    q = models.RunsQuery(experiment_ids=[exp.id], filter="params.depth = '1' and metrics.auc > 0.2",
                         order_by=["metrics.auc DESC"], max_results=4, offset=0)
    page = tracking.search_runs(alice, q)
    assert page.total == 8  # depth 1 at i = 1,4,...,28; auc > 0.2 keeps i >= 7: 7,10,...,28
    assert [r.info.name for r in page.runs] == ["r28", "r25", "r22", "r19"]
    page2 = tracking.search_runs(alice, q.model_copy(update={"offset": 4}))
    assert [r.info.name for r in page2.runs] == ["r16", "r13", "r10", "r07"]
    assert page.param_keys == ["depth"] and page.metric_keys == ["auc"]


def test_search_rejects_bad_paging(tracking, alice):
    with pytest.raises(InvalidArgument, match="max_results"):
        tracking.search_runs(alice, models.RunsQuery(max_results=0))
    with pytest.raises(InvalidArgument, match="offset"):
        tracking.search_runs(alice, models.RunsQuery(offset=-1))


def test_datasets_are_versioned_by_content(tracking, alice):
    run = _run(tracking, alice)
    spec = models.DatasetLog(name="train", digest="aaa", num_rows=10, num_columns=2, schema={"x": "int64"})
    v1 = tracking.log_dataset(alice, run.id, spec)
    again = tracking.log_dataset(alice, run.id, spec)
    v2 = tracking.log_dataset(alice, run.id, spec.model_copy(update={"digest": "bbb"}))
    assert (v1.version, again.version, v2.version) == (1, 1, 2)
    assert [d.digest for d in tracking.get_run(alice, run.id).datasets] == ["aaa", "bbb"]


def test_runs_without_heartbeat_and_runs_of_dead_kernels_fail(tracking, alice, store):
    from sqlalchemy import update

    from workbench.store.tables import RunRow

    stale = _run(tracking, alice)
    alive = _run(tracking, alice)
    kernel = _run(tracking, alice, kernel_id="kern-1")
    with store.session() as s:
        s.execute(update(RunRow).where(RunRow.id == stale.id).values(heartbeat_at=now_ms() - 600_000))
    assert tracking.fail_stale_runs(timeout_ms=120_000) == 1
    assert tracking.fail_kernel_runs("kern-1") == 1
    status = {r: tracking.get_run(alice, r).info.status for r in (stale.id, alive.id, kernel.id)}
    assert status == {stale.id: "FAILED", alive.id: "RUNNING", kernel.id: "FAILED"}


def test_delete_experiment_removes_its_runs(tracking, alice):
    run = _run(tracking, alice)
    tracking.log_batch(alice, run.id, _batch(metrics=[("x", 1.0, 0)], params=[("p", "1")]))
    tracking.delete_experiment(alice, run.info.experiment_id)
    with pytest.raises(NotFound):
        tracking.get_run(alice, run.id)


def test_artifacts_store_list_and_refuse_escapes(tracking, alice, tmp_path):
    arts = Artifacts(tracking, tmp_path / "artifacts")
    run = _run(tracking, alice)
    arts.put(alice, run.id, "plots/loss.png", b"\x89PNG")
    arts.put(alice, run.id, "notes.md", b"# hi")
    assert [(a.path, a.size, a.media_type) for a in arts.list(alice, run.id)] == [
        ("notes.md", 4, "text/plain"), ("plots/loss.png", 4, "image/png")]
    file, media = arts.open(alice, run.id, "plots/loss.png")
    assert file.read_bytes() == b"\x89PNG" and media == "image/png"
    for bad in ("../x", "/etc/passwd", "a/../../b", "a\\b", ""):
        with pytest.raises(InvalidArgument):
            arts.put(alice, run.id, bad, b"x")
    with pytest.raises(NotFound):
        arts.open(alice, run.id, "missing.txt")
    assert not list((tmp_path / "artifacts" / run.id).rglob(".upload-*"))  # no temp files left behind


def test_client_chosen_run_ids_are_idempotent_and_not_stealable(tracking, alice, bob):
    exp = tracking.create_experiment(alice, "e")
    spec = models.RunCreate(experiment_id=exp.id, run_id="ab" * 16, name="mine")
    first = tracking.create_run(alice, spec)
    again = tracking.create_run(alice, spec)  # a retry after a lost reply
    assert first.id == again.id == "ab" * 16
    bob_exp = tracking.create_experiment(bob, "e")
    with pytest.raises(Conflict, match="already taken"):
        tracking.create_run(bob, models.RunCreate(experiment_id=bob_exp.id, run_id="ab" * 16))
    with pytest.raises(ValueError):
        models.RunCreate(experiment_id=exp.id, run_id="not-hex")


def test_a_batch_can_create_its_run_first(tracking, alice):
    exp = tracking.create_experiment(alice, "e")
    create = models.RunCreate(experiment_id=exp.id, run_id="cd" * 16, name="batched", start_time=now_ms() - 1000)
    batch = models.PointBatch(metrics=[("loss", 0.5, 0, 1)], create=create,
                              end=(models.RunStatus.FINISHED, now_ms()))
    tracking.log_points(alice, "cd" * 16, batch)
    tracking.log_points(alice, "cd" * 16, batch.__class__(create=create, metrics=[("loss", 0.4, 1, 2)]))
    run = tracking.get_run(alice, "cd" * 16)
    assert run.info.name == "batched" and run.data.metrics == {"loss": 0.4}
    with pytest.raises(InvalidArgument, match="sent to run"):
        tracking.log_points(alice, "ef" * 16, models.PointBatch(create=create))
