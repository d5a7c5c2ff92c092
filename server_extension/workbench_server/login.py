"""The log-in page of a multi-user server: user name and password, throttled.

Jupyter's own page asks for a password or token only, so multi-user mode shows
Workbench's form; single-user mode keeps Jupyter's page and flow unchanged.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

import jinja2
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.login import LoginFormHandler
from markupsafe import Markup

from workbench_server.auth import is_multi_user, login_name
from workbench_server.workspace import WorkbenchContentsManager


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
    return env.get_template("login.html")


class WorkbenchLoginHandler(LoginFormHandler):
    def _render_form(self, message: str | None = None, username: str = "") -> None:
        self.write(_template().render(
            base_url=self.base_url, next_url=self.get_argument("next", default=self.base_url), username=username,
            message=message, xsrf_form_html=Markup(self.xsrf_form_html()),  # tornado's own markup
        ))

    @allow_unauthenticated
    def get(self):
        if not is_multi_user(self):
            return super().get()
        if self.current_user:
            return self._redirect_safe(self.get_argument("next", default=self.base_url))
        return self._render_form()

    @allow_unauthenticated
    async def post(self):
        if not is_multi_user(self):
            return super().post()
        idp = self.identity_provider
        name = login_name(self)
        keys = (("user", name), ("address", self.request.remote_ip))
        wait = max(idp.user_throttle.retry_after(keys[0]), idp.address_throttle.retry_after(keys[1]))
        if wait:
            # Locked: the password is not even checked, so guessing on learns nothing.
            self.set_status(429)
            self.set_header("Retry-After", str(wait))
            return self._render_form(f"Too many failed log-ins. Try again in {wait} s.", username=name)
        user = await asyncio.to_thread(idp.process_login_form, self)
        if user is None:
            idp.user_throttle.failure(keys[0])
            idp.address_throttle.failure(keys[1])
            self.log.warning("Failed log-in as %r from %s", name, self.request.remote_ip)
            self.set_status(401)
            return self._render_form("Wrong user name or password.", username=name)
        idp.user_throttle.success(keys[0])  # not the address: one good account must not reset a guesser's count
        self.log.info("User %s logged in.", user.username)
        if isinstance(self.contents_manager, WorkbenchContentsManager):
            await self.contents_manager.ensure_folders(user.principal)
        self.current_user = user
        idp.set_login_cookie(self, user)
        self._redirect_safe(self.get_argument("next", default=self.base_url))
