"""The one error hierarchy of Workbench.

Services raise these; the server maps each to an HTTP status in one table
(``workbench_server.handlers.base``) and the SDK maps HTTP errors back to them,
so a notebook sees the same exception whether it runs embedded or over HTTP.
Messages are written for users: say what is wrong and what to do next.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every error Workbench raises on purpose."""

    code = "internal"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(WorkbenchError):
    """The caller passed something malformed (bad filter, wrong type, bad name)."""

    code = "invalid_argument"


class NotFound(WorkbenchError):
    """The thing does not exist, or the caller may not know that it exists."""

    code = "not_found"


class AlreadyExists(WorkbenchError):
    """Creating something whose unique name is taken."""

    code = "already_exists"


class PermissionDenied(WorkbenchError):
    """The caller is known but may not do this."""

    code = "permission_denied"


class Unauthenticated(WorkbenchError):
    """No valid credentials came with the request."""

    code = "unauthenticated"


class Conflict(WorkbenchError):
    """The request contradicts current state (e.g. changing a logged param)."""

    code = "conflict"


ERRORS_BY_CODE: dict[str, type[WorkbenchError]] = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, AlreadyExists, PermissionDenied, Unauthenticated, Conflict)
}
