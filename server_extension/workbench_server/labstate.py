"""JupyterLab's saved workspaces (layouts: the open documents, the file browser's
folder), one set per user in multi-user mode.

JupyterLab keeps them in one server-wide folder, so every user would load, and
could read, everyone's layout, open file paths included. Its API handlers take
their ``WorkspacesManager`` as an argument; the server extension hands them one
that keeps each user's workspaces in a folder of their own.
"""

from __future__ import annotations

from pathlib import Path

from jupyterlab_server.workspaces_handler import WorkspacesHandler, WorkspacesManager

from workbench_server.acting import acting_principal


class PerUserWorkspacesManager(WorkspacesManager):
    """JupyterLab's workspaces manager, in ``<workspaces_dir>/users/<name>/`` for each user."""

    @property
    def workspaces_dir(self) -> Path:  # type: ignore[override]
        user = acting_principal()
        if user is None:  # the server itself (no request): JupyterLab's own folder
            return self._base
        return self._base / "users" / (user.name or "_nobody")

    @workspaces_dir.setter
    def workspaces_dir(self, value) -> None:
        self._base = Path(value)


def keep_workspaces_per_user(web_app) -> int:
    """Give every JupyterLab workspaces route a per-user manager; returns how many routes changed."""
    changed = 0
    routers = [web_app.default_router]
    while routers:
        for rule in getattr(routers.pop(), "rules", []):
            if hasattr(rule.target, "rules"):
                routers.append(rule.target)
            elif isinstance(rule.target, type) and issubclass(rule.target, WorkspacesHandler):
                manager = (rule.target_kwargs or {}).get("manager")
                if isinstance(manager, WorkspacesManager) and not isinstance(manager, PerUserWorkspacesManager):
                    rule.target_kwargs["manager"] = PerUserWorkspacesManager(str(manager.workspaces_dir))
                    changed += 1
    return changed
