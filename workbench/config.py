"""The one reader of ``WORKBENCH_*`` settings.

Read when called, never at import, so tests and notebooks can change the
environment and get a fresh view.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    """Data dir: SQLite database, artifacts, spooled logging (``WORKBENCH_HOME``)."""
    db_url: str
    """SQLAlchemy URL of the metadata store (``WORKBENCH_DB_URL``)."""
    server_url: str | None
    """Base URL of a Workbench server; when set the SDK talks HTTP (``WORKBENCH_URL``)."""
    token: str | None
    """API token for ``server_url`` (``WORKBENCH_TOKEN``)."""
    user: str | None
    """Acting user name in embedded mode (``WORKBENCH_USER``; default: the OS user)."""
    run_heartbeat_timeout_s: float
    """A RUNNING run silent this long is marked FAILED (``WORKBENCH_RUN_HEARTBEAT_TIMEOUT``)."""
    flush_timeout_s: float
    """How long ``end_run`` waits for an unreachable server before leaving values queued
    (``WORKBENCH_FLUSH_TIMEOUT``)."""
    notebook_path: str | None
    """The notebook a process runs, when Jupyter does not say (``WORKBENCH_NOTEBOOK_PATH``)."""
    public_url: str | None = None
    """The server's URL as people outside reach it, for share links (``WORKBENCH_PUBLIC_URL``;
    default: the URL of the request that made the link)."""

    @property
    def artifact_root(self) -> Path:
        return self.home / "artifacts"

    @property
    def share_secret_path(self) -> Path:
        """The key share links are signed with (made on first use, mode 0600). Servers that share
        a database must share this file too."""
        return self.home / "share-secret"


def settings() -> Settings:
    home = Path(os.environ.get("WORKBENCH_HOME") or Path.home() / ".workbench").expanduser()
    db_url = os.environ.get("WORKBENCH_DB_URL") or f"sqlite:///{home / 'workbench.db'}"
    return Settings(
        home=home,
        db_url=db_url,
        server_url=(os.environ.get("WORKBENCH_URL") or None),
        token=(os.environ.get("WORKBENCH_TOKEN") or None),
        user=(os.environ.get("WORKBENCH_USER") or None),
        run_heartbeat_timeout_s=float(os.environ.get("WORKBENCH_RUN_HEARTBEAT_TIMEOUT", "120")),
        flush_timeout_s=float(os.environ.get("WORKBENCH_FLUSH_TIMEOUT", "60")),
        notebook_path=os.environ.get("WORKBENCH_NOTEBOOK_PATH") or None,
        public_url=os.environ.get("WORKBENCH_PUBLIC_URL") or None,
    )
