"""Identity: Workbench API tokens next to Jupyter's own login.

``Authorization: token wb_...`` (how kernels, scripts and the SDK call) resolves
to that token's user. Everything else is Jupyter's usual token/cookie login,
which in single-user mode means the local user.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web

from workbench.tenancy import Principal
from workbench.tenancy.service import TOKEN_PREFIX


@dataclass
class WorkbenchUser(User):
    principal: Principal | None = None


class WorkbenchIdentityProvider(IdentityProvider):
    """Jupyter's IdentityProvider, plus Workbench API tokens."""

    async def get_user(self, handler):  # type: ignore[override]
        existing = getattr(handler, "_jupyter_current_user", None)
        if existing:
            return existing
        token = self.get_token(handler)
        if token and token.startswith(TOKEN_PREFIX):
            from workbench_server.context import get_context

            principal = await asyncio.to_thread(get_context().tenancy.authenticate_token, token)
            if principal is None:
                # Say so plainly rather than fall through to a confusing XSRF refusal.
                raise web.HTTPError(401, "This Workbench API token is unknown or revoked.")
            # Like Jupyter's own tokens: no XSRF or origin check for scripted clients.
            handler._token_authenticated = True
            return WorkbenchUser(username=principal.name, name=principal.name, display_name=principal.name,
                                 principal=principal)
        return await super()._get_user(handler)
