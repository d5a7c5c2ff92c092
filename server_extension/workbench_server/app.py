"""The Workbench server extension: wires the services into jupyter_server."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bokeh.util.paths import static_path
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, Dict, Float, List, Unicode

from workbench.store.engine import SchemaOutOfDate
from workbench_server import containers
from workbench_server.auth import WorkbenchIdentityProvider
from workbench_server.authorizer import WorkbenchAuthorizer
from workbench_server.context import get_context
from workbench_server.handlers import compare, kernels, reports, tracking
from workbench_server.handlers.base import WorkbenchHandler
from workbench_server.kernels import KERNEL_TOKEN_PREFIX, WorkbenchKernelManager, WorkbenchSessionManager
from workbench_server.labstate import keep_lab_state_per_user
from workbench_server.openapi import openapi_document
from workbench_server.workspace import WorkbenchContentsManager

API_PREFIX = "/workbench/api/v1"
KERNEL_TOKEN_NAME = "jupyter-kernels"
_KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"


def api_routes() -> list[tuple]:
    """Every route under /workbench/api/v1 (the OpenAPI document lists these)."""
    return [*tracking.handlers, *kernels.handlers, *compare.handlers, *reports.handlers]


class OpenAPIHandler(WorkbenchHandler):
    async def get(self):
        routes = self.settings["workbench_routes"]
        self.finish(openapi_document(routes, prefix=url_path_join(self.base_url, API_PREFIX)))


class WorkbenchApp(ExtensionApp):
    name = "workbench_server"
    load_other_extensions = True

    stale_run_sweep_interval = Float(
        30.0, config=True,
        help="Seconds between sweeps that mark RUNNING runs without heartbeats as FAILED.",
    )
    kernel_server_url = Unicode(
        "", config=True,
        help="URL kernels use to reach this server's API (default: the server's own connection URL).",
    )
    public_url = Unicode(
        "", config=True,
        help="This server's URL as people outside reach it (https://workbench.example.com/), for share links. "
             "Default: WORKBENCH_PUBLIC_URL, else the URL of the request that makes the link.",
    )
    multi_user = Bool(
        False, config=True,
        help="One server for a team: users log in with their Workbench password, each sees only their own "
             "(and their teams') files, kernels and runs. `workbench serve --multi-user` sets this and the "
             "Jupyter classes it needs.",
    )

    kernel_images = List(
        Dict(), config=True,
        help="Multi-user mode: the kernels users may pick, each a container image with its limits, e.g. "
             "[{'name': 'workbench-python', 'display_name': 'Python 3', 'image': 'workbench-kernel:0.1.0', "
             "'mem_limit': '4g', 'cpus': 2, 'gpus': 0, 'share_gpus': False}]. Empty: the images "
             "`workbench images build [--gpu]` makes (workbench-python, workbench-torch). Per-user limits: "
             "WorkbenchKernelManager.user_kernel_limits.",
    )
    default_kernel = Unicode(
        "workbench-python", config=True,
        help="Multi-user mode: the kernel (a name from kernel_images) notebooks get unless the user picks one.",
    )
    kernel_server_id = Unicode(
        "", config=True,
        help="Label value marking this server's kernel containers, so that at start-up it removes those a "
             "crash left behind and no other server's. Default: derived from the host name and root folder.",
    )

    def initialize_settings(self):
        try:
            ctx = get_context(multi_user=self.multi_user)
        except SchemaOutOfDate as exc:
            # Jupyter would carry on without the extension; a half-working server helps nobody.
            self.log.critical("%s", exc.message)
            raise SystemExit(1) from None
        if self.multi_user:
            self._enter_multi_user_mode(ctx)
        self.settings["workbench"] = ctx
        self.settings["workbench_public_url"] = self.public_url or ctx.settings.public_url or ""
        self.settings["workbench_routes"] = api_routes()
        self._sweeper = PeriodicCallback(self._sweep_stale_runs, self.stale_run_sweep_interval * 1000)
        self.serverapp.event_logger.add_listener(schema_id=_KERNEL_ACTIONS, listener=self._on_kernel_action)

    def _enter_multi_user_mode(self, ctx) -> None:
        app = self.serverapp
        needed = {"identity_provider": WorkbenchIdentityProvider, "authorizer": WorkbenchAuthorizer,
                  "contents_manager": WorkbenchContentsManager, "kernel_manager": WorkbenchKernelManager,
                  "session_manager": WorkbenchSessionManager}
        missing = [f"--ServerApp.{name}_class={cls.__module__}.{cls.__name__}"
                   for name, cls in needed.items() if not isinstance(getattr(app, name), cls)]
        if app.terminals_enabled:
            missing.append("--ServerApp.terminals_enabled=False")
        if missing:
            # Without any one of these, users would see each other's files or kernels: refuse to start.
            self.log.critical("Workbench multi-user mode needs %s. Start it with `workbench serve --multi-user`, "
                              "which sets them.", " ".join(missing))
            raise SystemExit(1)
        self._set_up_container_kernels(ctx)
        app.contents_manager.workbench_multi_user = True
        app.kernel_manager.workbench = ctx

    def _set_up_container_kernels(self, ctx) -> None:
        """Every kernel in a container: check the engine, reap orphans, offer only the vetted images."""
        app = self.serverapp
        server_id = self.kernel_server_id or containers.default_server_id(app.root_dir)
        try:
            setup = containers.set_up(home=ctx.settings.home, root_dir=app.root_dir, configured=self.kernel_images,
                                      default=self.default_kernel, server_id=server_id)
        except containers.ContainerSetupError as e:
            self.log.critical("%s", e)
            raise SystemExit(1) from None
        self.log.info("Workbench: kernels run in containers on %s; offered: %s (default %s)", setup.engine,
                      ", ".join(s.name for s in setup.specs), setup.default)
        if setup.reaped:
            self.log.info("Workbench: removed %d kernel containers left by an earlier run: %s",
                          len(setup.reaped), ", ".join(setup.reaped))
        for image in setup.missing_images:
            self.log.warning("Workbench: kernel image %s is not built yet; kernels using it will not start. "
                             "Build it with `workbench images build%s`.", image, " --gpu" if "torch" in image else "")
        ksm = app.kernel_spec_manager
        ksm.kernel_dirs = [str(setup.kernels_dir)]
        ksm.ensure_native_kernel = False  # no local python3 kernel next to the containers
        ksm.allowed_kernelspecs = {s.name for s in setup.specs}
        app.kernel_manager.default_kernel_name = setup.default
        app.kernel_manager.workbench_server_id = setup.server_id

    def initialize_handlers(self):
        api = [(API_PREFIX + pattern, handler) for pattern, handler in api_routes()]
        api.append((API_PREFIX + "/openapi.json", OpenAPIHandler))
        # BokehJS for the panels and shared reports, from the installed bokeh: no CDN needed.
        api.append((r"/workbench/static/bokeh/(.*)", web.StaticFileHandler, {"path": str(Path(static_path()) / "js")}))
        api.extend(reports.page_handlers)  # share links: the one route that needs no login
        self.handlers.extend(api)

    async def _start_jupyter_server_extension(self, serverapp):
        await super()._start_jupyter_server_extension(serverapp)
        # Kernels inherit the server's environment: give them the URL and a token of the local
        # user so `import workbench as wb` works with no set-up. (Multi-user mode gives each kernel
        # its owner's token instead: see kernels.py.)
        ctx = self.settings["workbench"]
        if ctx.local_user is not None:
            token = await asyncio.to_thread(ctx.tenancy.replace_token, ctx.local_user, name=KERNEL_TOKEN_NAME)
            os.environ["WORKBENCH_URL"] = self.kernel_server_url or serverapp.connection_url
            os.environ["WORKBENCH_TOKEN"] = token.token
            os.environ.setdefault("JUPYTER_SERVER_ROOT", serverapp.root_dir)
        else:
            serverapp.kernel_manager.workbench_url = self.kernel_server_url or serverapp.connection_url
            if not keep_lab_state_per_user(serverapp.web_app):
                self.log.warning("Workbench: found no JupyterLab workspaces or settings API to keep per user.")
            # Kernels do not outlive the server (container orphans are reaped): neither do their tokens.
            await asyncio.to_thread(ctx.tenancy.revoke_named_tokens, KERNEL_TOKEN_PREFIX)
        self._sweeper.start()
        await self._sweep_stale_runs()

    async def stop_extension(self):
        if getattr(self, "_sweeper", None) is not None:
            self._sweeper.stop()

    async def _sweep_stale_runs(self):
        ctx = self.settings["workbench"]
        timeout_ms = int(ctx.settings.run_heartbeat_timeout_s * 1000)
        failed = await asyncio.to_thread(ctx.tracking.fail_stale_runs, timeout_ms=timeout_ms)
        if failed:
            self.log.info("Workbench: marked %d runs without heartbeat as FAILED", failed)

    async def _on_kernel_action(self, logger, schema_id, data):
        # A kernel that restarts (by hand or after dying) or shuts down ends its active runs.
        if data.get("action") in ("restart", "shutdown") and data.get("kernel_id"):
            ctx = self.settings["workbench"]
            failed = await asyncio.to_thread(ctx.tracking.fail_kernel_runs, data["kernel_id"])
            if failed:
                self.log.info("Workbench: kernel %s %s; %d active runs marked FAILED",
                              data["kernel_id"], data["action"], failed)
