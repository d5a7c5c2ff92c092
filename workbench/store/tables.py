"""SQLAlchemy tables of Workbench. Every table is prefixed ``wb_`` because
Optuna (and possibly others) share the database.

Changes go through an Alembic migration in ``migrations/versions``; a test
checks that the migrated schema matches these declarations.
"""

from __future__ import annotations

import math

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UserRow(Base):
    __tablename__ = "wb_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)
    removed_at: Mapped[int | None] = mapped_column(BigInteger)
    """Set by ``workbench users remove``: the row stays because runs and experiments point at it."""


class TeamRow(Base):
    __tablename__ = "wb_teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class TeamMemberRow(Base):
    __tablename__ = "wb_team_members"
    team_id: Mapped[int] = mapped_column(ForeignKey("wb_teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("wb_users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="member")


class ApiTokenRow(Base):
    __tablename__ = "wb_api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("wb_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class ExperimentRow(Base):
    __tablename__ = "wb_experiments"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256))
    owner_id: Mapped[int] = mapped_column(ForeignKey("wb_users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("wb_teams.id"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class RunRow(Base):
    __tablename__ = "wb_runs"
    __table_args__ = (
        Index("ix_wb_runs_experiment_start", "experiment_id", "start_time"),
        Index("ix_wb_runs_status_heartbeat", "status", "heartbeat_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("wb_experiments.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("wb_users.id"))
    name: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    heartbeat_at: Mapped[int | None] = mapped_column(BigInteger)
    kernel_id: Mapped[str | None] = mapped_column(String(64), index=True)
    notebook_path: Mapped[str | None] = mapped_column(Text)
    git_commit: Mapped[str | None] = mapped_column(String(64))
    python_version: Mapped[str | None] = mapped_column(String(32))
    packages: Mapped[str | None] = mapped_column(Text)
    """JSON object name -> version."""
    source: Mapped[str | None] = mapped_column(Text)


class ParamRow(Base):
    __tablename__ = "wb_params"
    __table_args__ = (Index("ix_wb_params_exp_key_value", "experiment_id", "key", "value"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("wb_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(6000))
    # Copied from the run so table pages filter and sort on one index.
    experiment_id: Mapped[int] = mapped_column(Integer)


class TagRow(Base):
    __tablename__ = "wb_tags"
    __table_args__ = (Index("ix_wb_tags_exp_key_value", "experiment_id", "key", "value"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("wb_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(8000))
    experiment_id: Mapped[int] = mapped_column(Integer)


def metric_to_db(value: float) -> float | None:
    """How a metric value is stored: NaN as NULL (SQLite cannot store NaN)."""
    return None if value != value else value  # only NaN is unequal to itself


def metric_from_db(value: float | None) -> float:
    return math.nan if value is None else value


class MetricRow(Base):
    """Every logged point. ``value`` NULL means NaN (SQLite cannot store NaN)."""

    __tablename__ = "wb_metrics"
    __table_args__ = (Index("ix_wb_metrics_run_key_step", "run_id", "key", "step"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("wb_runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float | None] = mapped_column(Float)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class LatestMetricRow(Base):
    """The latest point (highest step, then newest) of each run's metric, for tables and search."""

    __tablename__ = "wb_latest_metrics"
    __table_args__ = (Index("ix_wb_latest_metrics_exp_key_value", "experiment_id", "key", "value"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("wb_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    experiment_id: Mapped[int] = mapped_column(Integer)


class ArtifactRow(Base):
    __tablename__ = "wb_artifacts"
    run_id: Mapped[str] = mapped_column(ForeignKey("wb_runs.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[int] = mapped_column(BigInteger)


class DatasetRow(Base):
    __tablename__ = "wb_datasets"
    __table_args__ = (UniqueConstraint("owner_id", "name", "digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("wb_users.id"))
    name: Mapped[str] = mapped_column(String(256))
    digest: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    num_rows: Mapped[int] = mapped_column(BigInteger)
    num_columns: Mapped[int] = mapped_column(Integer)
    schema_json: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)


class RunDatasetRow(Base):
    __tablename__ = "wb_run_datasets"
    run_id: Mapped[str] = mapped_column(ForeignKey("wb_runs.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("wb_datasets.id"), primary_key=True)
    context: Mapped[str] = mapped_column(String(64), primary_key=True, default="")


class ExperimentKeyRow(Base):
    """Which param/metric/tag keys an experiment's runs use: the runs table's columns,
    kept on write so listing them never scans every run."""

    __tablename__ = "wb_experiment_keys"
    experiment_id: Mapped[int] = mapped_column(ForeignKey("wb_experiments.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)


class ReportRow(Base):
    """A saved comparison: a title, Markdown notes and the runs, in order. Private to its owner."""

    __tablename__ = "wb_reports"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("wb_users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    run_ids: Mapped[str] = mapped_column(Text)
    """JSON list of run ids (up to 10,000): read whole, never queried by run."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ShareLinkRow(Base):
    """A share link of a report. The token itself is never stored: it is signed from this row."""

    __tablename__ = "wb_share_links"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("wb_reports.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("wb_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class ShareViewRow(Base):
    """One opening of a share link (when, which link)."""

    __tablename__ = "wb_share_views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    share_id: Mapped[str] = mapped_column(ForeignKey("wb_share_links.id", ondelete="CASCADE"), index=True)
    viewed_at: Mapped[int] = mapped_column(BigInteger)
