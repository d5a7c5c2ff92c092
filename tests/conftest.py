"""Fixtures shared by the whole suite.

Every test gets its own data dir and database. The suite runs on SQLite, and on
PostgreSQL too when WORKBENCH_TEST_PG_URL names a database (``make test`` starts
one): then every store-backed test runs once per backend.
"""

from __future__ import annotations

import os
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from workbench_kernels.docker_runtime import DockerRuntime
from workbench_kernels.errors import EngineUnavailable, ImageBuildError
from workbench_kernels.images import build_image

from workbench import client
from workbench.store import engine as store_engine
from workbench.tenancy import Tenancy
from workbench.tracking.service import Tracking

PG_URL = os.environ.get("WORKBENCH_TEST_PG_URL")


def pytest_configure(config):
    # Nothing in the suite may touch the real ~/.workbench, even a thread outliving its test.
    import tempfile

    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-test-home-"))


# `make test` runs the suite twice: on SQLite, then with WORKBENCH_TEST_PG_URL on PostgreSQL.
BACKENDS = ["postgresql"] if PG_URL else ["sqlite"]


def fresh_pg_database(prefix: str = "wbt") -> str:
    """A new, empty PostgreSQL database next to WORKBENCH_TEST_PG_URL's; returns its URL."""
    assert PG_URL
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    store_engine.forget_stores()
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'workbench.db'}"
        store_engine.forget_stores()
    else:
        url = fresh_pg_database()
        yield url
        drop_pg_database(url)


@pytest.fixture
def wb_env(db_url, tmp_path, monkeypatch):
    """Environment of an embedded SDK user: own data dir and database, no server."""
    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("WORKBENCH_DB_URL", db_url)
    monkeypatch.setenv("WORKBENCH_USER", "alice")
    monkeypatch.delenv("WORKBENCH_URL", raising=False)
    monkeypatch.delenv("WORKBENCH_TOKEN", raising=False)
    client.reset_client()
    yield home
    _reset_sdk()
    client.reset_client()


def _reset_sdk():
    from workbench.tracking import fluent

    while fluent.active_run() is not None:
        fluent.end_run()
    fluent._experiment.clear()


@pytest.fixture
def store(db_url):
    return store_engine.open_store(db_url)


@pytest.fixture
def tenancy(store):
    return Tenancy(store)


@pytest.fixture
def tracking(store):
    return Tracking(store)


@pytest.fixture
def alice(tenancy):
    return tenancy.create_user("alice")


@pytest.fixture
def bob(tenancy):
    return tenancy.create_user("bob")


@pytest.fixture
def live_server(db_url, tmp_path):
    """A running Jupyter server with Workbench on this test's database, user alice."""
    from tests.live_server import LiveServer

    with LiveServer(tmp_path / "server-home", db_url) as server:
        yield server


@pytest.fixture(scope="session")
def server_pool(tmp_path_factory):
    """One live server per database backend for the whole session (started on first use)."""
    from tests.live_server import LiveServer

    servers: dict[str, LiveServer] = {}
    pg_urls: list[str] = []

    def get(backend: str) -> LiveServer:
        if backend not in servers:
            home = tmp_path_factory.mktemp(f"shared-server-{backend}")
            if backend == "sqlite":
                url = f"sqlite:///{home / 'workbench.db'}"
            else:
                url = fresh_pg_database("wbsrv")
                pg_urls.append(url)
            servers[backend] = LiveServer(home, url).start()
        return servers[backend]

    yield get
    for server in servers.values():
        server.stop()
    for url in pg_urls:
        drop_pg_database(url)


@pytest.fixture
def http_user(db_url, server_pool):
    """A fresh user with an API token on the shared server of this backend: (server, name, token)."""
    from workbench.store.engine import open_store

    server = server_pool("sqlite" if db_url.startswith("sqlite") else "postgresql")
    tenancy = Tenancy(open_store(server.db_url))
    user = tenancy.create_user(f"u{uuid.uuid4().hex[:10]}")
    return server, user.name, tenancy.create_token(user, name="test").token


@pytest.fixture(params=["embedded", "http"])
def sdk(request, wb_env, monkeypatch):
    """The SDK as a notebook uses it: embedded on the store, or over HTTP to a live server
    (as a fresh user of a shared server, authenticated with an API token)."""
    import workbench as wb

    if request.param == "http":
        server, _name, token = request.getfixturevalue("http_user")
        monkeypatch.setenv("WORKBENCH_URL", server.url)
        monkeypatch.setenv("WORKBENCH_TOKEN", token)
        client.reset_client()
    return wb


# --- containers: tests marked ``docker`` skip (with the reason) when no engine answers; ``make test``
# starts one with tools/dockerd.sh. The kernel image is built once per session; its layers are cached
# by their inputs, so a rerun with unchanged code takes a second.

@pytest.fixture(scope="session")
def docker_runtime():
    runtime = DockerRuntime()
    try:
        runtime.ping()
    except EngineUnavailable as e:
        pytest.skip(f"no Docker engine: {e}")
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def kernel_image(docker_runtime):
    def say(line):
        print(f"[kernel image] {line}", file=sys.stderr, flush=True)

    try:
        return build_image(progress=say)
    except ImageBuildError as e:
        if "needs root" in str(e):
            pytest.skip(str(e))
        raise
