"""Compare views and run tables inline in a notebook: ``wb.compare`` and ``wb.runs``.

Both return an object that JupyterLab shows as an ``<iframe srcdoc>`` holding a standalone
page (``workbench.reports.render``). In a kernel of a Workbench server (``WORKBENCH_URL``
set) the page loads BokehJS from that server's ``/workbench/static/bokeh/``, by path, so it
works behind whatever host name the browser uses; embedded (no server) BokehJS is inlined.
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench import config, models
from workbench.errors import InvalidArgument

# Bokeh (half a second to import) loads when a view is first shown, not with `import workbench`.
STATIC_PREFIX = "/workbench/static/bokeh/"
"""The same as ``workbench.reports.render.STATIC_PREFIX``."""
FRAME_HEIGHT = 720


def _static_prefix() -> str | None:
    """Where the browser finds BokehJS: the server's static path, or None (inline) when embedded."""
    url = config.settings().server_url
    if not url:
        return None
    path = urllib.parse.urlsplit(url).path or "/"
    return path.rstrip("/") + STATIC_PREFIX


def _iframe(page: str, *, height: int, label: str) -> str:
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" title="{html.escape(label)}" '
            f'style="width: 100%; height: {height}px; border: 0;" loading="lazy"></iframe>')


def run_ids_of(runs: Any) -> list[str]:
    """Run ids from what a notebook has at hand: one id, a list of ids or Runs, or a ``search_runs``
    frame (its ``run_id`` column).

    Example:
        >>> run_ids_of(wb.search_runs(experiment="churn").head(3))
        ['9f1c...', '07ab...', 'c3d2...']
    """
    if isinstance(runs, str):
        return [runs]
    columns = getattr(runs, "columns", None)
    if columns is not None:
        if "run_id" not in columns:
            raise InvalidArgument("This frame has no run_id column: pass a wb.search_runs(...) frame or a list of "
                                  "run ids.")
        return [str(r) for r in runs["run_id"]]
    if isinstance(runs, models.Run):
        return [runs.id]
    if isinstance(runs, Sequence) or hasattr(runs, "__iter__"):
        out = []
        for r in runs:
            if isinstance(r, str):
                out.append(r)
            elif isinstance(r, models.Run) or hasattr(r, "info"):
                out.append(r.info.run_id)
            elif hasattr(r, "id") and isinstance(r.id, str):
                out.append(r.id)
            else:
                raise InvalidArgument(f"Cannot compare {r!r}: pass run ids, Runs or a wb.search_runs(...) frame.")
        return out
    raise InvalidArgument(f"Cannot compare {type(runs).__name__}: pass run ids, Runs or a wb.search_runs(...) frame.")


class CompareResult:
    """What ``wb.compare`` returns: the compare view, shown inline by JupyterLab.

    Attributes: ``run_count``, ``metrics`` (those with curves), ``downsampled``, and ``item``
    (the Bokeh ``json_item``). ``save(path)`` writes it as a page that works offline.
    """

    def __init__(self, view: models.CompareView, *, static_prefix: str | None = None):
        self.view = view
        self.static_prefix = static_prefix

    @property
    def run_count(self) -> int:
        return self.view.run_count

    @property
    def metrics(self) -> list[str]:
        return list(self.view.metrics)

    @property
    def downsampled(self) -> bool:
        return self.view.downsampled

    @property
    def item(self) -> dict:
        return self.view.item

    def to_html(self, *, title: str = "Comparison", notes_markdown: str = "", bokeh_js: str = "inline") -> str:
        """The view as a standalone page (BokehJS inline by default: the file works offline)."""
        from workbench.reports.render import page_html

        return page_html(self.view.item, title=title, notes_markdown=notes_markdown, bokeh_js=bokeh_js,
                         static_prefix=self.static_prefix or STATIC_PREFIX)

    def save(self, path: str | Path, *, title: str = "Comparison", notes_markdown: str = "") -> Path:
        """Write the view to ``path`` as a page that opens in any browser, offline.

        Example:
            >>> wb.compare(runs).save("sweep.html", title="lr sweep")
        """
        path = Path(path)
        path.write_text(self.to_html(title=title, notes_markdown=notes_markdown), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        served = self.static_prefix is not None
        page = self.to_html(title=f"{self.run_count:,} runs compared", bokeh_js="server" if served else "inline")
        return _iframe(page, height=FRAME_HEIGHT + 80, label="Workbench compare view")

    def __repr__(self) -> str:
        return (f"<CompareResult {self.run_count} runs, metrics {self.metrics}"
                f"{', downsampled' if self.downsampled else ''}>")


def compare(runs: Any, *, metrics: Sequence[str] | None = None, max_points: int | None = None) -> CompareResult:
    """Compare runs side by side, inline in the notebook: metric curves (by step or time,
    smoothing, log scale, grouping), parallel coordinates with brushing, a scatter of any
    two columns coloured by a third, a diff table that hides equal columns, the best run per
    metric, and groups with mean and spread.

    ``runs`` is a run id, a list of run ids (1 to 10,000) or a ``wb.search_runs`` frame. Curves are
    drawn for ``metrics`` (default: every metric, the first 10 by name); beyond ``max_points``
    points in all (default 300,000) they are downsampled on the server.

    Example:
        >>> runs = wb.search_runs(experiment="churn", filter="metrics.auc > 0.9")
        >>> wb.compare(runs, metrics=["auc", "loss"])
    """
    from workbench.client import get_client
    from workbench.tracking import fluent

    if fluent.active_run() is not None:
        fluent.flush()  # compare what was logged so far
    request = models.CompareRequest(run_ids=run_ids_of(runs), metrics=list(metrics) if metrics is not None else None,
                                    max_points=max_points)
    return CompareResult(get_client().compare(request), static_prefix=_static_prefix())


class RunsTable:
    """What ``wb.runs`` returns: an interactive table of runs (sortable, searchable), shown inline;
    ``frame`` is the ``search_runs`` DataFrame behind it."""

    def __init__(self, frame, *, static_prefix: str | None = None, title: str = "Runs"):
        self.frame = frame
        self.static_prefix = static_prefix
        self.title = title

    def __len__(self) -> int:
        return len(self.frame)

    def to_html(self, *, bokeh_js: str = "inline") -> str:
        from bokeh.embed import json_item

        from workbench.reports.render import page_html
        from workbench.reports.tables import runs_table

        return page_html(json_item(runs_table(self.frame)), title=self.title, bokeh_js=bokeh_js,
                         static_prefix=self.static_prefix or STATIC_PREFIX)

    def _repr_html_(self) -> str:
        page = self.to_html(bokeh_js="server" if self.static_prefix is not None else "inline")
        return _iframe(page, height=560, label="Workbench runs table")

    def __repr__(self) -> str:
        return f"<RunsTable {len(self.frame)} runs>"


def runs(experiment: str | int | Sequence[str | int] | None = None, filter: str = "",
         order_by: Sequence[str] | None = None, *, max_results: int = 1000) -> RunsTable:
    """An interactive table of runs, inline in the notebook: the rows of ``wb.search_runs`` with
    the same arguments, sortable by any column, with a search box. ``.frame`` is the DataFrame.

    Example:
        >>> wb.runs(experiment="churn", filter="metrics.auc > 0.9", order_by=["metrics.auc DESC"])
    """
    from workbench.tracking.fluent import search_runs

    frame = search_runs(experiment, filter, order_by, max_results=max_results)
    label = experiment if isinstance(experiment, str) else "Runs"
    return RunsTable(frame, static_prefix=_static_prefix(), title=f"{label}: {len(frame):,} runs")
