"""INSERT ... ON CONFLICT for the two dialects Workbench runs on."""

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
