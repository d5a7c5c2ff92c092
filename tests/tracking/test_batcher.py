"""Logging survives a server outage: warned, retried, nothing acknowledged is lost."""

import warnings

import pytest

from workbench import client
from workbench.store.engine import open_store
from workbench.tenancy import Tenancy
from workbench.tracking.batcher import Batcher, LoggingWarning, replay_spool


@pytest.fixture
def own_server(wb_env, db_url, tmp_path, monkeypatch):
    """A live server this test may stop and start again on the same port, and an SDK pointed at it."""
    from tests.live_server import LiveServer

    server = LiveServer(tmp_path / "srv", db_url).start()
    tenancy = Tenancy(open_store(db_url))
    token = tenancy.create_token(tenancy.ensure_user("carol"), name="t").token
    monkeypatch.setenv("WORKBENCH_URL", server.url)
    monkeypatch.setenv("WORKBENCH_TOKEN", token)
    client.reset_client()
    yield server
    server.stop()


def test_an_outage_delays_logging_but_loses_nothing(own_server):
    import workbench as wb

    run = wb.start_run()
    wb.log_metric("loss", 1.0, step=0)
    wb.flush()
    own_server.stop()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(1, 1001):
            wb.log_metric("loss", 1.0 / (step + 1), step=step)
        wb.log_param("lr", 0.1)
        with pytest.raises(TimeoutError):
            wb.flush(timeout=1.5)
        own_server.start()
        wb.end_run()
    messages = [str(w.message) for w in caught if issubclass(w.category, LoggingWarning)]
    assert any("delayed" in m for m in messages) and any("resumed" in m for m in messages)
    hist = wb.get_metric_history(run.id, "loss")
    assert hist["step"].tolist() == list(range(1001))  # every point, once, in order
    assert wb.get_run(run.id).data.params == {"lr": "0.1"}


def test_values_left_at_exit_are_spooled_and_replayed(own_server, wb_env):
    import workbench as wb

    run = wb.start_run()
    wb.flush()  # the run exists on the server; only this test's own batcher's values are at stake
    own_server.stop()
    spool = wb_env / "spool-test"
    batcher = Batcher(client.get_client, spool)
    for step in range(100):
        batcher.add(run.id, "metric", ("acc", step / 100, step, 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batcher.close(timeout=1.0)
    assert any("saved to" in str(w.message) for w in caught)
    assert len(list(spool.glob("*.json"))) == 1
    own_server.start()
    assert replay_spool(spool, client.get_client) == 1
    assert list(spool.glob("*.json")) == []
    assert len(wb.get_metric_history(run.id, "acc")) == 100
    wb.end_run()
