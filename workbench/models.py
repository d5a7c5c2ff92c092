"""Typed models that cross a boundary: REST bodies, SDK return values, panel types.

ORM rows never leave ``workbench.store``; services convert them to these.
The labextension's TypeScript types are generated from this module
(``make types`` turns ``panel_json_schema()`` into labextension/src/models.ts),
and CI fails when the generated file is stale.

Times are integer milliseconds since the epoch (UTC), as in MLflow.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    # Non-finite metric values travel as "NaN"/"Infinity": JSON has no literal for them.
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


class RunStatus(str, Enum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


class User(_Model):
    id: int
    name: str
    is_admin: bool = False
    teams: list[str] = Field(default_factory=list)


class Team(_Model):
    id: int
    name: str
    members: list[str] = Field(default_factory=list)


class Experiment(_Model):
    id: int
    name: str
    owner: str
    created_at: int
    run_count: int = 0
    active_run_count: int = 0
    last_run_at: int | None = None


class ExperimentCreate(_Model):
    name: str
    exist_ok: bool = False
    """Return the existing experiment of that name instead of failing (``wb.set_experiment``)."""


class Metric(_Model):
    key: str
    value: float
    step: int = 0
    timestamp: int


class Param(_Model):
    key: str
    value: str


class Tag(_Model):
    key: str
    value: str


class RunInfo(_Model):
    run_id: str
    experiment_id: int
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None = None
    user: str
    notebook_path: str | None = None
    git_commit: str | None = None
    kernel_id: str | None = None


class RunData(_Model):
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    """Latest value of each metric."""
    tags: dict[str, str] = Field(default_factory=dict)


class DatasetInput(_Model):
    name: str
    digest: str
    version: int
    num_rows: int
    num_columns: int
    schema_: dict[str, str] = Field(alias="schema")
    source: str | None = None
    context: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True, ser_json_inf_nan="strings")


class Run(_Model):
    """A run as MLflow users know it: ``run.info``, ``run.data``; ``run.id`` for short."""

    info: RunInfo
    data: RunData
    datasets: list[DatasetInput] = Field(default_factory=list)

    @property
    def id(self) -> str:
        return self.info.run_id


class RunEnvironment(_Model):
    """What it takes to reproduce a run: where its code came from and what it ran with."""

    notebook_path: str | None = None
    git_commit: str | None = None
    python_version: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    source: str | None = None
    """Snapshot of the notebook (ipynb JSON) or script text at run start."""


class RunCreate(_Model):
    experiment_id: int
    run_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    """Chosen by the client (32 hex digits) so ``start_run`` need not wait for the server;
    creating the same run again is a no-op."""
    name: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    start_time: int | None = None
    kernel_id: str | None = None
    environment: RunEnvironment | None = None


class RunUpdate(_Model):
    status: RunStatus | None = None
    end_time: int | None = None
    name: str | None = None


class MetricPoint(_Model):
    key: str
    value: float
    step: int = 0
    timestamp: int


class LogBatch(_Model):
    """Everything the SDK buffered for one run, sent in one request."""

    metrics: list[MetricPoint] = Field(default_factory=list)
    params: list[Param] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)
    heartbeat: bool = False
    end: RunUpdate | None = None
    """Applied after the values: how ``end_run`` reaches the server in order with them."""
    create: RunCreate | None = None
    """Create the run first (if it does not exist yet): how ``start_run`` reaches the server."""


class DatasetLog(_Model):
    """A dataset a run used, described by content (the SDK hashes the data itself)."""

    name: str
    digest: str
    num_rows: int = Field(ge=0)
    num_columns: int = Field(ge=0)
    schema_: dict[str, str] = Field(alias="schema", default_factory=dict)
    source: str | None = None
    context: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True, ser_json_inf_nan="strings")


@dataclass
class PointBatch:
    """The in-process form of a ``LogBatch``: plain tuples, no per-point objects.

    Logging is the hot path (a notebook may log millions of points), so the SDK,
    the transports and the service pass this; ``LogBatch`` is its wire form.
    """

    metrics: list[tuple[str, float, int, int]] = field(default_factory=list)
    """(key, value, step, timestamp)"""
    params: list[tuple[str, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    heartbeat: bool = False
    end: tuple[RunStatus, int] | None = None
    """(final status, end time) applied after the values."""
    create: RunCreate | None = None
    """The run to create before the values, when it is new."""

    @classmethod
    def from_model(cls, batch: LogBatch) -> PointBatch:
        return cls(
            metrics=[(m.key, m.value, m.step, m.timestamp) for m in batch.metrics],
            params=[(p.key, p.value) for p in batch.params],
            tags=[(t.key, t.value) for t in batch.tags],
            heartbeat=batch.heartbeat,
            end=(batch.end.status, batch.end.end_time) if batch.end and batch.end.status else None,
            create=batch.create,
        )

    def to_json(self) -> str:
        """The ``LogBatch`` JSON, written directly (pydantic objects per point cost microseconds each)."""
        body: dict[str, Any] = {
            "metrics": [{"key": k, "value": v if math.isfinite(v) else _NON_FINITE[repr(v)], "step": st, "timestamp": ts}
                        for k, v, st, ts in self.metrics],
            "params": [{"key": k, "value": v} for k, v in self.params],
            "tags": [{"key": k, "value": v} for k, v in self.tags],
            "heartbeat": self.heartbeat,
        }
        if self.end is not None:
            body["end"] = {"status": RunStatus(self.end[0]).value, "end_time": self.end[1]}
        if self.create is not None:
            body["create"] = self.create.model_dump(mode="json", exclude_none=True)
        return json.dumps(body, allow_nan=False)


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


class Artifact(_Model):
    path: str
    size: int
    is_dir: bool = False
    media_type: str | None = None


class RunsQuery(_Model):
    """A page of runs: the runs table and ``search_runs`` both use it."""

    experiment_ids: list[int] = Field(default_factory=list)
    filter: str = ""
    order_by: list[str] = Field(default_factory=list)
    max_results: int = 1000
    offset: int = 0
    include_total: bool = True


class RunsPage(_Model):
    runs: list[Run]
    total: int | None = None
    offset: int = 0
    param_keys: list[str] = Field(default_factory=list)
    metric_keys: list[str] = Field(default_factory=list)
    tag_keys: list[str] = Field(default_factory=list)


class MetricHistory(_Model):
    run_id: str
    key: str
    points: list[MetricPoint]


class MetricHistoriesQuery(_Model):
    run_ids: list[str] = Field(min_length=1, max_length=10_000)
    keys: list[str] = Field(default_factory=list)
    """Metric keys to return; empty for every metric of the runs."""


class MetricSeries(_Model):
    """One run's history of one metric as columns: compact for many runs (compare views)."""

    run_id: str
    key: str
    steps: list[int]
    values: list[float]
    timestamps: list[int]


class MetricHistories(_Model):
    series: list[MetricSeries]
    """One per run and key that has points, in the order of ``run_ids``, keys sorted, steps ascending."""


class TokenCreated(_Model):
    token: str
    """The secret, shown once."""
    id: int
    name: str


class ExperimentList(_Model):
    experiments: list[Experiment]


class ArtifactList(_Model):
    artifacts: list[Artifact]


class ErrorBody(_Model):
    error: str
    message: str


# --- kernels (multi-user server) -----------------------------------------------------------------

class KernelStart(_Model):
    """A kernel of the caller's that is starting (in a container, on a multi-user server)."""

    kernel_id: str
    kernel_name: str
    display_name: str
    stage: str
    """What the start is doing now, e.g. 'Starting a container from workbench-kernel:0.1.0 (...)'."""
    stage_seconds: float
    """How long it has been doing that."""


class KernelStarts(_Model):
    kernels: list[KernelStart]


# --- comparison views (issue 5, compare) ---------------------------------------------------------

@dataclass
class MetricColumns:
    """Every point of many runs' metrics as flat columns (compare views of up to 10,000 runs).

    ``curves`` says whose points come in what order: the points of curve ``i`` are the
    ``curves[i][2]`` entries of ``points`` that follow those of the curves before it, in step order.
    """

    curves: list[tuple[str, str, int]] = field(default_factory=list)
    """(run_id, metric key, number of points)"""
    points: list[tuple[int, float | None, int]] = field(default_factory=list)
    """(step, value, timestamp); value None where it is NaN (as stored)."""
    total_points: int = 0
    """Points these curves hold in the store (more than ``points`` when they were thinned)."""


class CompareRequest(_Model):
    """Runs to compare side by side (the Compare view, ``wb.compare``)."""

    run_ids: list[str]
    """1 to 10,000 run ids, shown in this order."""
    metrics: list[str] | None = None
    """Metrics to draw curves of; None: every metric the runs logged (the first 10 by name)."""
    max_points: int | None = None
    """Budget of curve points in all; longer histories are downsampled on the server (default 300,000)."""


class CompareView(_Model):
    """The Compare view as a Bokeh document (``Bokeh.embed.embed_item(item, element)`` shows it)."""

    run_count: int
    metrics: list[str]
    """Metrics with curves."""
    downsampled: bool
    """Whether some curves were thinned to fit the point budget (first, last and extremes kept)."""
    item: dict[str, Any]
    """Bokeh ``json_item`` of the view; BokehJS from /workbench/static/bokeh/ renders it."""


# --- saved reports and share links (issue 5) ------------------------------------------------------

class ReportCreate(_Model):
    """A comparison saved under a title, with notes in Markdown."""

    title: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=100_000)
    run_ids: list[str] = Field(min_length=1, max_length=10_000)
    """The runs, in the order the views show them; each must be one you can read."""


class ReportUpdate(_Model):
    """Fields of a report to change; those left out stay."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=100_000)
    run_ids: list[str] | None = Field(default=None, min_length=1, max_length=10_000)


class Report(_Model):
    id: str
    title: str
    notes: str
    run_ids: list[str]
    owner: str
    created_at: int
    """Milliseconds since the epoch, as every Workbench time."""
    updated_at: int


class ReportSummary(_Model):
    id: str
    title: str
    run_count: int
    created_at: int
    updated_at: int


class ReportList(_Model):
    reports: list[ReportSummary]
    """Newest change first."""


class ShareCreate(_Model):
    """A read-only link to a report that opens without logging in, until it expires or is revoked."""

    report_id: str
    expires_in: str | int = "7d"
    """'30m', '12h', '7d', '2w', or seconds; at most 365 days."""


class ShareLink(_Model):
    id: str
    report_id: str
    report_title: str
    url: str
    """The link to hand out (a bearer secret: whoever has it can open the report)."""
    created_at: int
    expires_at: int
    revoked_at: int | None = None
    views: int = 0
    last_viewed_at: int | None = None


class ShareList(_Model):
    shares: list[ShareLink]
    """Yours, newest first, revoked and expired ones included."""


# Models the panel uses; their JSON Schema is the source of labextension/src/models.ts.
PANEL_MODELS: tuple[type[BaseModel], ...] = (
    User,
    Experiment,
    ExperimentCreate,
    RunInfo,
    RunData,
    Run,
    RunEnvironment,
    DatasetInput,
    Artifact,
    RunsQuery,
    RunsPage,
    ExperimentList,
    ArtifactList,
    MetricPoint,
    MetricHistory,
    MetricSeries,
    ErrorBody,
    KernelStart,
    KernelStarts,
    # comparison views (issue 5, compare)
    CompareRequest,
    CompareView,
    # saved reports and share links (issue 5)
    ReportCreate,
    ReportUpdate,
    Report,
    ReportSummary,
    ReportList,
    ShareCreate,
    ShareLink,
    ShareList,
)


def panel_json_schema() -> dict[str, Any]:
    """One JSON Schema document with every panel model under ``$defs``."""
    defs: dict[str, Any] = {}
    for model in PANEL_MODELS:
        schema = model.model_json_schema(ref_template="#/$defs/{model}", by_alias=True)
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "WorkbenchModels", "$defs": defs}
