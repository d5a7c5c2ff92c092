"""The services one server works with, built once from the settings."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from workbench import config
from workbench.reports.service import Reports
from workbench.store import Store, open_store
from workbench.tenancy import Principal, Tenancy
from workbench.tenancy.sharing import ShareLinks
from workbench.tracking.artifacts import Artifacts
from workbench.tracking.service import Tracking


@dataclass
class WorkbenchContext:
    settings: config.Settings
    store: Store
    tenancy: Tenancy
    tracking: Tracking
    artifacts: Artifacts
    reports: Reports
    shares: ShareLinks
    local_user: Principal | None
    """The one user of a single-user server; None in multi-user mode."""


_context: WorkbenchContext | None = None
_lock = threading.Lock()


def get_context(*, multi_user: bool | None = None) -> WorkbenchContext:
    """The server's context, created on first use (single-user unless ``multi_user``).

    ``multi_user=None`` takes the context as it is; the server extension passes its mode.
    """
    global _context
    with _lock:
        settings = config.settings()
        if (_context is None or _context.settings.db_url != settings.db_url or _context.settings.home != settings.home
                or (multi_user is not None and (_context.local_user is None) != multi_user)):
            store = open_store(settings.db_url)
            tenancy = Tenancy(store)
            tracking = Tracking(store)
            _context = WorkbenchContext(
                settings=settings,
                store=store,
                tenancy=tenancy,
                tracking=tracking,
                artifacts=Artifacts(tracking, settings.artifact_root),
                reports=Reports(store, tracking),
                shares=ShareLinks(store, secret_path=settings.share_secret_path),
                local_user=None if multi_user else tenancy.local_user(settings.user),
            )
        return _context


def reset_context() -> None:
    global _context
    with _lock:
        _context = None
