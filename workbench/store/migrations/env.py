"""Alembic environment of Workbench: its own version table, our metadata only."""

from alembic import context
from sqlalchemy import create_engine

from workbench.store.engine import VERSION_TABLE
from workbench.store.tables import Base


def _include(obj, name, type_, reflected, compare_to):
    # Other tools' tables (Optuna's) share the database; never touch them.
    return not (type_ == "table" and not name.startswith("wb_"))


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_object=_include,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
