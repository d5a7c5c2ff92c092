"""Workbench: a notebook-first ML platform. ``import workbench as wb``.

Example:
    >>> import workbench as wb
    >>> wb.set_experiment("churn")
    >>> with wb.start_run(name="rf") as run:
    ...     wb.log_param("max_depth", 8)
    ...     wb.log_metric("auc", 0.91, step=1)
    >>> wb.search_runs(experiment="churn", filter="metrics.auc > 0.9")
"""

from workbench.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    WorkbenchError,
)
from workbench.reports.inline import compare, runs
from workbench.reports.sdk import get_report, reports, revoke_share, save_report, share, shares
from workbench.tracking.fluent import (
    ActiveRun,
    active_run,
    end_run,
    flush,
    get_experiment,
    get_metric_history,
    get_run,
    list_experiments,
    log_artifact,
    log_artifacts,
    log_dataset,
    log_figure,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    start_run,
)

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "AlreadyExists",
    "Conflict",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "Unauthenticated",
    "WorkbenchError",
    "active_run",
    "compare",
    "end_run",
    "flush",
    "get_experiment",
    "get_metric_history",
    "get_report",
    "get_run",
    "list_experiments",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "reports",
    "revoke_share",
    "runs",
    "save_report",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "share",
    "shares",
    "start_run",
]
