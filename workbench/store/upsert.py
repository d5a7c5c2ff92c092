"""Bulk writes for the two dialects Workbench runs on: INSERT ... ON CONFLICT, and
plain inserts of many rows at DBAPI speed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, table: Table):
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"Workbench supports SQLite and PostgreSQL, not {dialect}.")


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict],
    keys: Sequence[str],
    update: Sequence[str],
    *,
    only_if: Callable[[object], ColumnElement[bool]] | None = None,
) -> None:
    """Insert ``rows``; where ``keys`` collide, overwrite the ``update`` columns (when ``only_if``)."""
    if not rows:
        return
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: stmt.excluded[c] for c in update},
        where=only_if(stmt.excluded) if only_if else None,
    )
    session.execute(stmt, list(rows))


def insert_ignore(session: Session, table: Table, rows: Sequence[dict]) -> None:
    if rows:
        session.execute(_insert(session, table).on_conflict_do_nothing(), list(rows))


def bulk_insert(session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert many rows given as tuples, straight through the driver's executemany.

    For the metric points hot path: building a dict and a bound statement per row
    through SQLAlchemy costs more than the database's own work.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    marks = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(columns))
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES ({marks})"
    session.connection().exec_driver_sql(sql, list(rows))
