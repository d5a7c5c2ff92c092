"""Engine, sessions and schema version of the metadata store.

SQLite (WAL) is the zero-set-up default; PostgreSQL comes by URL. The schema is
owned by Alembic with its own version table, so Optuna and others can share
the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from workbench.errors import WorkbenchError

VERSION_TABLE = "wb_alembic_version"
_MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaOutOfDate(WorkbenchError):
    code = "schema_out_of_date"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a crash of the process; only power loss can drop
            # the last commits, and it never corrupts.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Store:
    """One database: an engine, a session factory and the schema check."""

    def __init__(self, url: str):
        self.url = url
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()

    def head_revision(self) -> str:
        head = ScriptDirectory.from_config(alembic_config(self.url)).get_current_head()
        assert head is not None
        return head

    def upgrade(self) -> None:
        """Bring the schema to the newest revision (``workbench db upgrade``)."""
        cfg = alembic_config(self.url)
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def is_empty(self) -> bool:
        names = inspect(self.engine).get_table_names()
        return not any(n.startswith("wb_") for n in names)

    def ensure_schema(self, *, create: bool = True) -> None:
        """Create the schema in an empty database; refuse an old one with the fix."""
        current = self.current_revision()
        head = self.head_revision()
        if current == head:
            return
        if current is None and self.is_empty() and create:
            self.upgrade()
            return
        raise SchemaOutOfDate(
            f"The Workbench database at {make_url(self.url).render_as_string(hide_password=True)} has schema "
            f"revision {current or 'none'}, this version needs {head}. Back it up, then run "
            "`workbench db upgrade`."
        )

    def dispose(self) -> None:
        self.engine.dispose()


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def open_store(url: str, *, create: bool = True) -> Store:
    """The process-wide Store for ``url``, schema checked (created when empty)."""
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = Store(url)
            store.ensure_schema(create=create)
            _stores[url] = store
        return store


def forget_stores() -> None:
    """Drop cached stores (tests switch databases between cases)."""
    with _stores_lock:
        for store in _stores.values():
            store.dispose()
        _stores.clear()
