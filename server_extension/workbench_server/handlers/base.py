"""The base of every Workbench API handler: auth, JSON in and out, and the one
table that maps Workbench errors to HTTP statuses."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from pydantic import BaseModel, ValidationError
from tornado import web

from workbench import errors
from workbench.tenancy import Principal
from workbench_server.context import WorkbenchContext

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

STATUS_BY_ERROR: dict[type[errors.WorkbenchError], int] = {
    errors.InvalidArgument: 400,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.Conflict: 409,
}
_CODE_BY_STATUS = {400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "not_found",
                   405: "method_not_allowed", 409: "conflict", 413: "too_large"}


@dataclass(frozen=True)
class Op:
    """What one verb of a handler takes and returns; the OpenAPI document is built from these."""

    summary: str
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    status: int = 200
    query: tuple[tuple[str, str, bool], ...] = ()
    """(name, description, required) of each query parameter."""
    raw_body: str | None = None
    """Media type of a raw (non-JSON) request body."""
    raw_response: str | None = None
    tags: tuple[str, ...] = field(default=())


class WorkbenchHandler(APIHandler):
    ops: dict[str, Op] = {}

    @property
    def wb(self) -> WorkbenchContext:
        return self.settings["workbench"]

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        self.principal = self._resolve_principal()

    def check_xsrf_cookie(self) -> None:
        # A request with no credentials at all is unauthenticated (401), not a forgery (403).
        if hasattr(self, "_jupyter_current_user") and self._jupyter_current_user is None:
            raise errors.Unauthenticated("Log in, or send 'Authorization: token <your Workbench API token>'.")
        super().check_xsrf_cookie()

    def _resolve_principal(self) -> Principal:
        user = self.current_user
        principal = getattr(user, "principal", None)
        if principal is not None:
            return principal
        if user is not None and self.wb.local_user is not None:
            return self.wb.local_user  # single-user mode: whoever Jupyter let in is the local user
        raise errors.Unauthenticated("Log in, or send 'Authorization: token <your Workbench API token>'.")

    # --- helpers for handler bodies -----------------------------------------------------------

    def parse(self, model: type[M]) -> M:
        """The request body as ``model``; a 400 saying which field is wrong otherwise."""
        try:
            return model.model_validate_json(self.request.body or b"{}")
        except ValidationError as exc:
            raise errors.InvalidArgument(f"Invalid {model.__name__}: {_describe(exc)}") from None

    def int_arg(self, value: str, what: str) -> int:
        try:
            return int(value)
        except ValueError:
            raise errors.InvalidArgument(f"{what} must be an integer, got {value!r}.") from None

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (blocking) service call off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def reply(self, model: BaseModel | None, status: int = 200) -> None:
        self.set_status(status)
        if model is None:
            self.finish()
            return
        self.set_header("Content-Type", "application/json")
        self.finish(model.model_dump_json(by_alias=True))

    # --- errors ---------------------------------------------------------------------------------

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, errors.WorkbenchError):
            status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(e, cls)), 500)
            if self._finished:
                return
            self.send_error(status, exc_info=sys.exc_info())
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, errors.WorkbenchError) and status_code < 500:
            body = {"error": exc.code, "message": exc.message}
        elif isinstance(exc, web.HTTPError) and status_code < 500:
            body = {"error": _CODE_BY_STATUS.get(status_code, "bad_request"),
                    "message": exc.log_message or exc.reason or self._reason}
        elif status_code < 500:
            body = {"error": _CODE_BY_STATUS.get(status_code, "bad_request"), "message": self._reason}
        else:  # never leak a traceback to the client; it is in the server log
            body = {"error": "internal", "message": "Unexpected server error; the server log has the details."}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{where}: {err.get('msg')}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
