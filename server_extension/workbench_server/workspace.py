"""Where each user may look and write in a multi-user server's file tree.

The server's root holds ``users/<name>/`` (one per user) and ``teams/<team>/``
(one per team). A user sees the root, ``users/`` and ``teams/`` as listings
that show only their own entries, reads and writes anywhere under their own
folder and their teams' folders, and nothing else exists for them: other paths
answer 404 with a message that does not repeat the path, and are left out of
listings.
"""

from __future__ import annotations

import asyncio
import errno
import os
import posixpath
from contextvars import ContextVar
from enum import Enum

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web

from workbench.tenancy import Principal
from workbench_server.acting import acting_principal

USERS, TEAMS = "users", "teams"
NOT_FOUND = "No such file or directory in your workspace."
_listing: ContextVar[bool] = ContextVar("workbench_listing", default=False)


class Area(Enum):
    LISTING = "listing"
    """The root, ``users/`` and ``teams/``: read-only, filtered to the user's entries."""
    OWN = "own"
    """The user's folder or one of their teams' folders, or anything below."""
    HIDDEN = "hidden"
    """Everything else."""


def parts(path: str) -> list[str]:
    """The segments of an API path, with ``.`` and ``..`` resolved (``..`` never climbs above the root)."""
    norm = posixpath.normpath("/" + (path or "").replace("\\", "/"))
    return [p for p in norm.split("/") if p]


def area(user: Principal, path: str) -> Area:
    segs = parts(path)
    if not segs or segs in ([USERS], [TEAMS]):
        return Area.LISTING
    if len(segs) >= 2 and ((segs[0] == USERS and segs[1] == user.name) or (segs[0] == TEAMS and segs[1] in user.teams)):
        return Area.OWN
    return Area.HIDDEN


def check_read(user: Principal, path: str) -> None:
    if area(user, path) is Area.HIDDEN:
        raise web.HTTPError(404, NOT_FOUND)


def check_write(user: Principal, path: str) -> None:
    segs = parts(path)
    if len(segs) >= 3 and area(user, path) is Area.OWN:
        return
    if len(segs) >= 3 or (len(segs) == 2 and segs[0] not in (USERS, TEAMS)):
        raise web.HTTPError(404, NOT_FOUND)
    # The root, users/, teams/ and the folders right in them: public knowledge, so a plain refusal.
    raise web.HTTPError(403, f"Create and change files under {USERS}/{user.name}/ or {TEAMS}/<your team>/; "
                             "those folders themselves are managed by Workbench.")


def home(user: Principal) -> str:
    return f"{USERS}/{user.name}"


def kernel_path(user: Principal, path: str | None) -> str:
    """The API path a kernel of ``user`` starts in: ``path`` when it is theirs, else their own folder
    (a console opened at the root, say)."""
    if path is not None and area(user, path) is Area.OWN:
        return "/".join(parts(path))
    return home(user)


def ensure_folders(root_dir: str, user: Principal) -> None:
    """Create the user's folder and their teams' folders (on log-in and when the root is listed)."""
    for rel in [home(user), *(f"{TEAMS}/{team}" for team in sorted(user.teams))]:
        os.makedirs(os.path.join(root_dir, *rel.split("/")), exist_ok=True)


class WorkbenchContentsManager(AsyncLargeFileManager):
    """Jupyter's file manager, confined per user in multi-user mode.

    Every entry point that takes a path checks it, so paths named in request
    bodies (a rename's target, a copy's source) are covered too; symlinks are
    judged by where they point, so a link in one's own folder cannot reach
    another user's files.
    """

    workbench_multi_user = False
    """Set by the Workbench server extension in multi-user mode."""

    def _acting(self) -> Principal | None:
        return acting_principal() if self.workbench_multi_user else None

    def _real_api_path(self, path: str) -> str | None:
        """The API path ``path`` really leads to after symlinks; None when that is outside the root."""
        root = os.path.realpath(self.root_dir)
        real = os.path.realpath(os.path.join(root, *parts(path)))
        if real != root and not real.startswith(root + os.sep):
            return None
        rel = os.path.relpath(real, root)
        return "" if rel == "." else rel.replace(os.sep, "/")

    def check_access(self, path: str, *, write: bool = False) -> None:
        """Refuse (404/403) a path the acting user may not read (or write); no-op in single-user mode."""
        user = self._acting()
        refusal = self._refusal(user, path, write=write) if user is not None else None
        if refusal is not None:
            raise refusal

    def _refusal(self, user: Principal, path: str, *, write: bool = False) -> web.HTTPError | None:
        for candidate in (path, self._real_api_path(path)):
            if candidate is None:
                return web.HTTPError(404, NOT_FOUND)
            try:
                (check_write if write else check_read)(user, candidate)
            except web.HTTPError as refusal:
                return refusal
        return None

    async def ensure_folders(self, user: Principal) -> None:
        await asyncio.to_thread(ensure_folders, self.root_dir, user)

    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        user = self._acting()
        if user is not None and _listing.get():
            # An entry of a directory listing being built: Jupyter's listing leaves out entries
            # that fail with EACCES, which is how others' folders (and links to them) vanish.
            if self._refusal(user, path) is not None:
                raise PermissionError(errno.EACCES, "not the user's")
            return await super().get(path, content=content, type=type, format=format, require_hash=require_hash)
        self.check_access(path)
        if user is not None and area(user, path) is Area.LISTING:
            await self.ensure_folders(user)
        token = _listing.set(True)
        try:
            return await super().get(path, content=content, type=type, format=format, require_hash=require_hash)
        finally:
            _listing.reset(token)

    async def save(self, model, path=""):
        self.check_access(path, write=True)
        return await super().save(model, path)

    async def delete_file(self, path):
        self.check_access(path, write=True)
        return await super().delete_file(path)

    async def rename_file(self, old_path, new_path):
        self.check_access(old_path, write=True)
        self.check_access(new_path, write=True)
        return await super().rename_file(old_path, new_path)

    async def file_exists(self, path):
        user = self._acting()
        if user is not None and (area(user, path) is not Area.OWN or self._real_api_path(path) is None):
            return False
        return await super().file_exists(path)

    async def dir_exists(self, path):
        user = self._acting()
        if user is not None and (area(user, path) is Area.HIDDEN or self._real_api_path(path) is None):
            return False
        return await super().dir_exists(path)

    async def new_untitled(self, path="", type="", ext=""):
        self.check_access(path)
        return await super().new_untitled(path=path, type=type, ext=ext)

    async def copy(self, from_path, to_path=None):
        self.check_access(from_path)
        if to_path is not None:
            self.check_access(to_path)
        return await super().copy(from_path, to_path)

    async def create_checkpoint(self, path):
        self.check_access(path, write=True)
        return await super().create_checkpoint(path)

    async def restore_checkpoint(self, checkpoint_id, path):
        self.check_access(path, write=True)
        return await super().restore_checkpoint(checkpoint_id, path)

    async def list_checkpoints(self, path):
        self.check_access(path)
        return await super().list_checkpoints(path)

    async def delete_checkpoint(self, checkpoint_id, path):
        self.check_access(path, write=True)
        return await super().delete_checkpoint(checkpoint_id, path)
