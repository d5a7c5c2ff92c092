"""The schema comes only from Alembic, and start-up refuses a database it cannot use."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from workbench.store.engine import VERSION_TABLE, SchemaOutOfDate, Store, alembic_config
from workbench.store.tables import Base


def test_migration_from_empty_creates_every_table(db_url):
    store = Store(db_url)
    assert store.current_revision() is None
    store.ensure_schema()
    assert store.current_revision() == store.head_revision()
    names = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= names
    assert VERSION_TABLE in names
    assert "alembic_version" not in names  # our own version table: others may share the database


def test_migrated_schema_matches_the_table_declarations(db_url):
    store = Store(db_url)
    store.upgrade()
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diff = [d for d in compare_metadata(ctx, Base.metadata) if "wb_alembic_version" not in repr(d)]
    assert diff == []


def test_upgrade_is_idempotent(db_url):
    store = Store(db_url)
    store.upgrade()
    store.upgrade()
    assert store.current_revision() == store.head_revision()


def test_an_old_schema_is_refused_with_the_upgrade_command(db_url):
    store = Store(db_url)
    store.upgrade()
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0000_older'"))
    with pytest.raises(SchemaOutOfDate, match="workbench db upgrade"):
        Store(db_url).ensure_schema()


def test_a_foreign_database_is_not_taken_over(db_url):
    store = Store(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (id INTEGER)"))
        conn.execute(text("CREATE TABLE wb_runs (id INTEGER)"))  # looks like ours, but no version
    with pytest.raises(SchemaOutOfDate):
        store.ensure_schema()


def test_other_tools_tables_are_left_alone(db_url):
    store = Store(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE studies (study_id INTEGER PRIMARY KEY)"))  # e.g. Optuna's
    store.ensure_schema()
    assert "studies" in inspect(store.engine).get_table_names()


def test_upgrade_from_0001_keeps_users(db_url):
    from workbench.tenancy import Tenancy

    store = Store(db_url)
    cfg = alembic_config(db_url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO wb_users (name, is_admin, created_at) VALUES ('old', false, 1)"))
    with pytest.raises(SchemaOutOfDate, match="workbench db upgrade"):
        Store(db_url).ensure_schema()
    store.upgrade()
    assert Tenancy(store).get_user("old").name == "old"


def test_upgrade_from_0002_adds_reports_and_share_links(db_url):
    from workbench import models
    from workbench.reports.service import Reports
    from workbench.tenancy import Tenancy
    from workbench.tracking.service import Tracking

    new_tables = {"wb_reports", "wb_share_links", "wb_share_views"}
    store = Store(db_url)
    cfg = alembic_config(db_url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    assert not new_tables & set(inspect(store.engine).get_table_names())
    with pytest.raises(SchemaOutOfDate, match="workbench db upgrade"):
        Store(db_url).ensure_schema()
    store.upgrade()
    store = Store(db_url)
    assert new_tables <= set(inspect(store.engine).get_table_names())
    alice = Tenancy(store).create_user("alice")
    tracking = Tracking(store)
    run = tracking.create_run(alice, models.RunCreate(experiment_id=tracking.create_experiment(alice, "e").id, name="r"))
    report = Reports(store, tracking).create(alice, models.ReportCreate(title="t", run_ids=[run.info.run_id]))
    assert Reports(store, tracking).get(alice, report.id).run_ids == [run.info.run_id]

    with store.engine.begin() as conn:  # and back down: 0003 takes only its own tables away
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    names = set(inspect(store.engine).get_table_names())
    assert not new_tables & names and {"wb_users", "wb_runs"} <= names
