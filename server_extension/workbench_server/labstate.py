"""JupyterLab's saved workspaces (layouts: the open documents, the file browser's
folder) and user settings (theme, shortcuts, editor options), one set per user in
multi-user mode.

JupyterLab keeps both in server-wide folders, so every user would load, and could
read, everyone's layout (open file paths included), and one user's theme would be
everyone's. Its workspaces handlers take their ``WorkspacesManager`` as an
argument: the server extension hands them one that keeps each user's workspaces in
a folder of their own. Its settings handler reads a ``settings_dir``: a subclass
points it at the user's own folder on each request.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from jupyterlab_server.settings_handler import SettingsHandler
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


class PerUserSettingsHandler(SettingsHandler):
    """JupyterLab's settings API, reading and writing ``<settings_dir>/users/<name>/``.

    A user's folder starts as a copy of the server-wide one, so the admin's choices
    there (say, no news prompt) are every user's starting point.
    """

    async def prepare(self):
        await super().prepare()  # finds the user
        user = acting_principal()
        if user is not None and user.name and self.settings_dir:
            base = Path(self.settings_dir)
            own = base / "users" / user.name
            if not own.is_dir():
                own.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(base, own, ignore=shutil.ignore_patterns("users"), dirs_exist_ok=True)
            self.settings_dir = str(own)


def keep_lab_state_per_user(web_app) -> int:
    """Give every JupyterLab workspaces route a per-user manager and every settings route the
    per-user handler; returns how many routes changed."""
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
            elif rule.target is SettingsHandler:
                rule.target = PerUserSettingsHandler
                changed += 1
    return changed
