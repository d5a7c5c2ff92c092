"""Who the current request acts for, as seen from Jupyter's managers.

Jupyter's contents, kernel and session managers are server-wide singletons that
are not handed the request. jupyter_server records the handler of the request
being served in its ``CallContext`` (a context variable, so concurrent requests
do not mix); the managers read the Workbench user from there.
"""

from __future__ import annotations

from jupyter_server.base.call_context import CallContext

from workbench.tenancy import Principal

NOBODY = Principal(id=-1, name="")
"""A request without a Workbench user: it may see nothing."""


def acting_principal() -> Principal | None:
    """The user the current request acts for; None when the server acts by itself
    (start-up, culling, timers): no request is being served."""
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    if handler is None:
        return None
    return getattr(getattr(handler, "_jupyter_current_user", None), "principal", None) or NOBODY
