"""Who may do what on a multi-user server: jupyter_server's Authorizer hook.

jupyter_server asks ``is_authorized(handler, user, action, resource)`` before
every REST verb and websocket of its own services. In multi-user mode:

- files (contents, /files, /view, nbconvert): a path read must be the user's
  (``workspace``); the contents manager checks every path again, those named
  in request bodies and those written to included;
- kernels: one started by someone else answers 404, exactly as a kernel that
  does not exist (get, interrupt, restart, delete, channels);
- sessions: the session manager only ever finds the caller's own; creating or
  changing one that names another user's kernel or notebook answers 404;
- terminals and language servers: off (they would run as the server's user);
- server shutdown, config changes and the server-wide event stream: admins only.

Single-user mode allows everything, like Jupyter's default AllowAllAuthorizer.
The Workbench API itself checks the acting user in every service call.
"""

from __future__ import annotations

from jupyter_server.auth.authorizer import Authorizer
from tornado import web

from workbench_server.kernels import WorkbenchKernelManager, WorkbenchSessionManager
from workbench_server.workspace import WorkbenchContentsManager

_OFF = frozenset({"terminals", "lsp"})
_ADMIN_ONLY = frozenset({"server", "events"})
_FILES = frozenset({"contents", "nbconvert"})


def _url_path(handler) -> str | None:
    path = handler.path_kwargs.get("path")
    if path is None and handler.path_args:  # /files/(.*) and /view/(.*) take it positionally
        path = handler.path_args[-1]
    return path


class WorkbenchAuthorizer(Authorizer):
    def is_authorized(self, handler, user, action, resource) -> bool:
        ctx = handler.settings.get("workbench")
        if ctx is None or ctx.local_user is not None:
            return True
        principal = getattr(user, "principal", None)
        if principal is None:
            return False
        if resource in _OFF:
            return False
        if resource in _ADMIN_ONLY or (resource == "config" and action == "write"):
            return principal.is_admin
        if resource in _FILES and action == "read":
            # Reads only: /files is served without the contents manager, and Jupyter's GET would
            # echo the path in its own 404. Changes are checked by the contents manager, which
            # also sees paths named in bodies and says why a write is refused.
            path = _url_path(handler)
            cm = handler.contents_manager
            if path is not None and isinstance(cm, WorkbenchContentsManager):
                cm.check_access(path)  # raises 404 for what is not theirs
        elif resource == "sessions" and action == "write":
            sm = handler.session_manager
            if isinstance(sm, WorkbenchSessionManager):
                sm.check_request(handler.get_json_body())
        elif resource == "kernels":
            kernel_id = handler.path_kwargs.get("kernel_id")
            km = handler.kernel_manager
            if kernel_id and isinstance(km, WorkbenchKernelManager) and kernel_id in km and not km.may_use(kernel_id):
                # The very words Jupyter uses for a kernel that does not exist: no hint it does.
                raise web.HTTPError(404, f"Kernel does not exist: {kernel_id}")
        return True
