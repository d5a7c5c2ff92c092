"""Kernels and sessions owned by the user who started them (multi-user mode).

The kernel manager records each kernel's owner, lists only the caller's
kernels, and gives each kernel its owner's identity: ``WORKBENCH_KERNEL_OWNER``,
``WORKBENCH_KERNEL_TEAMS`` and a Workbench API token of its own
(``WORKBENCH_URL`` / ``WORKBENCH_TOKEN``), revoked when the kernel goes away,
plus the owner's limits if configured (``WORKBENCH_KERNEL_MEM_LIMIT`` ...).
These arrive in the ``env`` that jupyter_client hands to the kernel
provisioner's ``pre_launch(**kwargs)``; a container provisioner passes them on.

Refusing another user's kernel by id (get, interrupt, restart, delete,
channels) is the authorizer's job; the session manager hides other users'
sessions and refuses to attach a session to someone else's kernel.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from jupyter_client.kernelspec import NoSuchKernel
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.services.sessions.sessionmanager import SessionManager
from tornado import web
from traitlets import Dict, TraitError, validate

from workbench.tenancy import Principal
from workbench_server import workspace
from workbench_server.acting import NOBODY, acting_principal

KERNEL_TOKEN_PREFIX = "kernel:"
"""Each kernel's API token is named ``kernel:<kernel id>``."""


LIMIT_VARIABLES = {"mem_limit": "WORKBENCH_KERNEL_MEM_LIMIT", "cpus": "WORKBENCH_KERNEL_CPUS",
                   "gpus": "WORKBENCH_KERNEL_GPUS", "image": "WORKBENCH_KERNEL_IMAGE"}
"""Per-user settings, and the launch variables the container provisioner reads them from."""


def kernel_env(base: dict[str, str], *, owner: Principal, url: str, token: str, root_dir: str,
               limits: dict | None = None, server_id: str = "") -> dict[str, str]:
    """The environment of ``owner``'s kernel: the server's own WORKBENCH_* settings (database URL
    included) removed, the owner's identity (and any per-user limits) added."""
    env = {k: v for k, v in base.items() if not k.startswith("WORKBENCH_")}
    env.update(WORKBENCH_URL=url, WORKBENCH_TOKEN=token, WORKBENCH_KERNEL_OWNER=owner.name,
               WORKBENCH_KERNEL_TEAMS=",".join(sorted(owner.teams)), JUPYTER_SERVER_ROOT=root_dir)
    if server_id:
        env["WORKBENCH_KERNEL_SERVER_ID"] = server_id
    env.update({LIMIT_VARIABLES[k]: str(v) for k, v in (limits or {}).items()})
    return env


class WorkbenchKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager, with an owner per kernel in multi-user mode."""

    user_kernel_limits = Dict(
        config=True,
        help="Per-user kernel settings over the kernelspec's, e.g. {'alice': {'mem_limit': '8g', 'cpus': 4, "
             "'gpus': 1, 'image': 'workbench-kernel-torch:0.1.0'}}. The container provisioner applies them.",
    )

    @validate("user_kernel_limits")
    def _check_limits(self, proposal):
        for user, limits in proposal["value"].items():
            unknown = set(limits) - set(LIMIT_VARIABLES) if isinstance(limits, dict) else {"(not a dict)"}
            if unknown:
                raise TraitError(f"user_kernel_limits[{user!r}]: unknown {sorted(unknown)}; "
                                 f"use {sorted(LIMIT_VARIABLES)}.")
        return proposal["value"]

    workbench = None
    """The server's WorkbenchContext; set by the extension in multi-user mode (else plain Jupyter)."""
    workbench_url = ""
    """The URL kernels reach the Workbench API at; set by the extension."""
    workbench_server_id = ""
    """The label value the container provisioner marks this server's kernels with; set by the extension."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._owners: dict[str, str] = {}
        self._starting: dict[str, object] = {}
        self._revocations: set[asyncio.Future] = set()

    def acting_user(self) -> Principal | None:
        """The user of the current request in multi-user mode; None in single-user mode or outside requests."""
        return acting_principal() if self.workbench is not None else None

    def may_use(self, kernel_id: str) -> bool:
        """Whether the acting user may see and use ``kernel_id`` (always, in single-user mode)."""
        user = self.acting_user()
        return user is None or self._owners.get(kernel_id) == user.name

    async def _async_start_kernel(self, *, kernel_id=None, path=None, **kwargs):  # type: ignore[override]
        if self.workbench is None:
            return await super()._async_start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        user = acting_principal()
        if user is None or user is NOBODY:
            # Every kernel of a multi-user server belongs to someone.
            raise web.HTTPError(403, "Log in to start a kernel.")
        if kernel_id is not None and kernel_id in self:
            if not self.may_use(kernel_id):
                raise web.HTTPError(404, f"Kernel does not exist: {kernel_id}")
            return await super()._async_start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        name = kwargs.get("kernel_name") or self.default_kernel_name
        offered = await asyncio.to_thread(self.offered_kernels)
        if name not in offered:
            raise web.HTTPError(404, f"No kernel named {name!r} here; pick one of {offered}.")
        if kernel_id is not None:
            try:  # it names the kernel's token too, and other ids could not be reached by URL
                kernel_id = str(uuid.UUID(kernel_id))
            except (ValueError, TypeError, AttributeError):
                raise web.HTTPError(400, "kernel_id must be a UUID.") from None
        kernel_id = kernel_id or str(uuid.uuid4())
        token = await asyncio.to_thread(self.workbench.tenancy.create_token, user,
                                        name=KERNEL_TOKEN_PREFIX + kernel_id)
        kwargs["env"] = kernel_env(kwargs.get("env") or dict(os.environ), owner=user, url=self.workbench_url,
                                   token=token.token, root_dir=self.root_dir,
                                   limits=self.user_kernel_limits.get(user.name), server_id=self.workbench_server_id)
        path = workspace.kernel_path(user, path)
        await asyncio.to_thread(workspace.ensure_folders, self.root_dir, user)  # else the cwd falls back to the root
        self._owners[kernel_id] = user.name
        try:
            return await super()._async_start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        except BaseException as e:
            self._owners.pop(kernel_id, None)
            self._revoke(kernel_id)
            if isinstance(e, RuntimeError) and type(e).__module__.startswith("workbench_kernels"):
                # No engine, no image: the message says what to do; a 500 with a traceback would not.
                raise web.HTTPError(503, str(e), reason="Kernel could not start") from e
            raise
        finally:
            self._starting.pop(kernel_id, None)

    start_kernel = _async_start_kernel  # type: ignore[assignment]

    def offered_kernels(self) -> list[str]:
        """The kernel names users may start (on a multi-user server: the admin's container images)."""
        return sorted(self.kernel_spec_manager.find_kernel_specs())

    def pre_start_kernel(self, kernel_name, kwargs):
        km, kernel_name, kernel_id = super().pre_start_kernel(kernel_name, kwargs)
        if self.workbench is not None:
            self._starting[kernel_id] = km  # its provisioner reports what the start is doing
        return km, kernel_name, kernel_id

    def starting_kernels(self, user: Principal) -> list[dict]:
        """The kernels of ``user`` that are starting: name, what the start is doing and since when."""
        out = []
        for kernel_id, km in list(self._starting.items()):
            if self._owners.get(kernel_id) != user.name:
                continue
            provisioner = getattr(km, "provisioner", None)
            stage = getattr(provisioner, "stage", "") or "Preparing the kernel"
            since = getattr(provisioner, "stage_since", 0.0) or time.time()
            spec = getattr(km, "kernel_spec", None)
            out.append({"kernel_id": kernel_id, "kernel_name": getattr(km, "kernel_name", ""),
                        "display_name": getattr(spec, "display_name", "") or getattr(km, "kernel_name", ""),
                        "stage": stage, "stage_seconds": max(0.0, time.time() - since)})
        return out

    def list_kernels(self):
        user = self.acting_user()
        kernels = super().list_kernels()
        return kernels if user is None else [k for k in kernels if self.may_use(k["id"])]

    def update_env(self, *, kernel_id: str, env: dict[str, str]) -> None:
        # Sessions renamed later send the server's whole environment: keep its WORKBENCH_* out.
        if self.workbench is not None:
            env = {k: v for k, v in env.items() if not k.startswith("WORKBENCH_")}
        super().update_env(kernel_id=kernel_id, env=env)

    def remove_kernel(self, kernel_id: str):
        # Every way a kernel goes (shutdown, death, culling) ends here: its token goes with it.
        if self._owners.pop(kernel_id, None) is not None:
            self._revoke(kernel_id)
        return super().remove_kernel(kernel_id)

    def _revoke(self, kernel_id: str) -> None:
        tenancy = self.workbench.tenancy
        name = KERNEL_TOKEN_PREFIX + kernel_id
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            tenancy.revoke_named_tokens(name)
            return
        fut = loop.run_in_executor(None, lambda: tenancy.revoke_named_tokens(name))
        self._revocations.add(fut)
        fut.add_done_callback(self._revoked)

    def _revoked(self, fut: asyncio.Future) -> None:
        self._revocations.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            self.log.error("Could not revoke a kernel's API token: %s", fut.exception())


class WorkbenchSessionManager(SessionManager):
    """Jupyter's session manager, showing each user only sessions of their own kernels.

    Sessions are keyed by path; in a team folder two members may each have a
    session on the same notebook, each with their own kernel.
    """

    def _may_use(self, kernel_id: str) -> bool:
        km = self.kernel_manager
        return km.may_use(kernel_id) if isinstance(km, WorkbenchKernelManager) else True

    def _check_path(self, path: str | None) -> None:
        # Another user's (or team's) notebook path: as if it did not exist. Other names (a console
        # opened at the root) are fine: the kernel starts in the user's own folder then.
        km = self.kernel_manager
        user = km.acting_user() if isinstance(km, WorkbenchKernelManager) else None
        segs = workspace.parts(path or "")
        if (user is not None and len(segs) >= 2 and segs[0] in (workspace.USERS, workspace.TEAMS)
                and workspace.area(user, path or "") is workspace.Area.HIDDEN):
            raise web.HTTPError(404, workspace.NOT_FOUND)

    def check_request(self, model) -> None:
        """Refuse a session request (create, change) that names another user's kernel or notebook.

        Called by the authorizer: Jupyter's handler would turn a refusal inside create_session into a 500.
        """
        if not isinstance(model, dict):
            return
        kernel = model.get("kernel")
        kernel_id = kernel.get("id") if isinstance(kernel, dict) else None
        if isinstance(kernel_id, str) and kernel_id in self.kernel_manager and not self._may_use(kernel_id):
            raise web.HTTPError(404, f"Kernel does not exist: {kernel_id}")
        notebook = model.get("notebook") if isinstance(model.get("notebook"), dict) else {}
        for path in (model.get("path"), notebook.get("path"), notebook.get("name")):
            if isinstance(path, str):
                self._check_path(path)

    async def row_to_model(self, row, tolerate_culled=False):
        model = await super().row_to_model(row, tolerate_culled=tolerate_culled)
        if model is not None and not self._may_use(model["kernel"]["id"]):
            if tolerate_culled:
                return None
            raise KeyError("Session not found")
        return model

    async def session_exists(self, path):
        rows = self.cursor.execute("SELECT * FROM session WHERE path=?", (path,)).fetchall()
        for row in rows:
            if await self.row_to_model(row, tolerate_culled=True) is not None:
                return True
        return False

    async def get_session(self, **kwargs):
        # As Jupyter's, but of several sessions matching (a shared notebook) the caller's own.
        if not kwargs:
            raise TypeError("must specify a column to query")
        for column in kwargs:
            if column not in self._columns:
                raise TypeError(f"No such column: {column}")
        query = "SELECT * FROM session WHERE " + " AND ".join(f"{column}=?" for column in kwargs)
        for row in self.cursor.execute(query, list(kwargs.values())).fetchall():
            try:
                return await self.row_to_model(row)
            except KeyError:
                continue
        raise web.HTTPError(404, "Session not found: " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()))

    async def create_session(self, path=None, name=None, type=None, kernel_name=None, kernel_id=None):
        self._check_path(path)
        km = self.kernel_manager
        if (kernel_id is None and kernel_name and isinstance(km, WorkbenchKernelManager)
                and kernel_name not in await asyncio.to_thread(km.offered_kernels)):
            raise NoSuchKernel(kernel_name)  # Jupyter's sessions API answers it with a 501 and a message
        if kernel_id is not None and kernel_id in self.kernel_manager and not self._may_use(kernel_id):
            raise web.HTTPError(404, f"Kernel does not exist: {kernel_id}")
        return await super().create_session(path=path, name=name, type=type, kernel_name=kernel_name,
                                            kernel_id=kernel_id)

    async def update_session(self, session_id, **kwargs):
        await self.get_session(session_id=session_id)
        if kwargs.get("kernel_id") is not None and not self._may_use(kwargs["kernel_id"]):
            raise web.HTTPError(400, f"No such kernel: {kwargs['kernel_id']}")
        if "path" in kwargs:
            self._check_path(kwargs["path"])
        return await super().update_session(session_id, **kwargs)

    async def delete_session(self, session_id):
        await self.get_session(session_id=session_id)  # 404 before Jupyter books a deletion in progress
        return await super().delete_session(session_id)
