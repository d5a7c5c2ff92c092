"""Identity: Workbench API tokens, and in multi-user mode Workbench's own log-in.

``Authorization: token wb_...`` (how kernels, scripts and the SDK call) resolves
to that token's user in both modes.

Single-user mode: everything else is Jupyter's usual token/cookie login, which
means the local user.

Multi-user mode: users log in with name and password on Workbench's log-in
page (``login.py``). The login cookie (signed by Jupyter's cookie secret)
carries only the user name and a stamp of their current password; each request
looks the user up again, so a removed user is out at their next request, team
changes apply at once, and a password change logs out their other browsers. Jupyter's
shared server token is not accepted: it names nobody.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web
from traitlets import Float, Int, default

from workbench.tenancy import Principal
from workbench.tenancy.service import TOKEN_PREFIX
from workbench_server.context import WorkbenchContext
from workbench_server.throttle import LoginThrottle

_COOKIE_KEY = "workbench_user"
_STAMP_KEY = "stamp"


@dataclass
class WorkbenchUser(User):
    principal: Principal | None = None
    login_stamp: str | None = None
    """Set at log-in: the stamp of the password used (see Tenancy.password_stamp)."""

    @classmethod
    def of(cls, principal: Principal) -> WorkbenchUser:
        return cls(username=principal.name, name=principal.name, display_name=principal.name, principal=principal)


def workbench_context(handler) -> WorkbenchContext:
    ctx = handler.settings.get("workbench")
    if ctx is None:  # asked before the extension loaded
        from workbench_server.context import get_context

        ctx = get_context()
    return ctx


def is_multi_user(handler) -> bool:
    return workbench_context(handler).local_user is None


class WorkbenchIdentityProvider(IdentityProvider):
    """Jupyter's IdentityProvider, plus Workbench API tokens and (multi-user) password log-in."""

    login_failures_per_user = Int(
        5, config=True, help="Failed log-ins allowed per user name within login_failure_window before waiting.")
    login_failures_per_address = Int(
        20, config=True, help="Failed log-ins allowed per client address within login_failure_window.")
    login_failure_window = Float(300.0, config=True, help="Seconds over which failed log-ins are counted.")
    login_lockout = Float(
        30.0, config=True, help="Seconds to wait once the limit is reached; doubles with each further failure.")

    @default("login_handler_class")
    def _default_login_handler_class(self):
        from workbench_server.login import WorkbenchLoginHandler

        return WorkbenchLoginHandler

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        common = {"window_s": self.login_failure_window, "delay_s": self.login_lockout}
        self.user_throttle = LoginThrottle(max_failures=self.login_failures_per_user, **common)
        self.address_throttle = LoginThrottle(max_failures=self.login_failures_per_address, **common)

    async def get_user(self, handler):  # type: ignore[override]
        existing = getattr(handler, "_jupyter_current_user", None)
        if existing:
            return existing
        ctx = workbench_context(handler)
        token = self.get_token(handler)
        if token and token.startswith(TOKEN_PREFIX):
            principal = await asyncio.to_thread(ctx.tenancy.authenticate_token, token)
            if principal is None:
                # Say so plainly rather than fall through to a confusing XSRF refusal.
                raise web.HTTPError(401, "This Workbench API token is unknown or revoked.")
            # Like Jupyter's own tokens: no XSRF or origin check for scripted clients.
            handler._token_authenticated = True
            return WorkbenchUser.of(principal)
        if ctx.local_user is None:
            return await self.get_user_cookie(handler)
        return await super()._get_user(handler)

    async def get_user_cookie(self, handler):  # type: ignore[override]
        ctx = workbench_context(handler)
        if ctx.local_user is not None:
            return super().get_user_cookie(handler)
        raw = handler.get_secure_cookie(self.get_cookie_name(handler), **self.get_secure_cookie_kwargs)
        if not raw:
            return None
        try:
            content = json.loads(raw)
            name, stamp = content[_COOKIE_KEY], content[_STAMP_KEY]
        except (ValueError, KeyError, TypeError):
            name = stamp = None  # e.g. a cookie from when this server ran single-user
        principal = None
        if isinstance(name, str) and isinstance(stamp, str):
            principal = await asyncio.to_thread(ctx.tenancy.find_logged_in_user, name, stamp)
        if principal is None:
            self.clear_login_cookie(handler)
            return None
        return WorkbenchUser.of(principal)

    def user_to_cookie(self, user: User) -> str:
        principal = getattr(user, "principal", None)
        if principal is not None:
            return json.dumps({_COOKIE_KEY: principal.name, _STAMP_KEY: getattr(user, "login_stamp", None)})
        return super().user_to_cookie(user)

    def process_login_form(self, handler):
        """The user whose name and password the log-in form carries, or None.

        Blocking (the password hash is slow on purpose): the log-in handler runs it in a thread.
        """
        ctx = workbench_context(handler)
        if ctx.local_user is not None:
            return super().process_login_form(handler)
        name = login_name(handler)
        principal = ctx.tenancy.verify_password(name, handler.get_argument("password", default=""))
        if principal is None:
            return None
        user = WorkbenchUser.of(principal)
        user.login_stamp = ctx.tenancy.password_stamp(principal.name)
        return user


def login_name(handler) -> str:
    return handler.get_argument("username", default="").strip().lower()[:64]
