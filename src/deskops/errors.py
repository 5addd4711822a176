"""The project's one error family: what a caller did wrong or what is missing, never a bug.

Every error a user (or an API client) can cause or fix is a ``DeskopsError`` of one of
five kinds, and each kind knows the HTTP status it maps to. The CLI prints them as one
line and exits 1; the web API turns them into a JSON body with that status. Anything
else that escapes is a bug and keeps its traceback.

``InvalidInput`` is also a ``ValueError`` and ``NotFound`` a ``LookupError``, so a
validator that raises one inside a pydantic model still becomes a validation error,
and code that asks "was it missing?" keeps working.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import ValidationError


class DeskopsError(Exception):
    """Base of every error deskops raises on purpose; ``str(error)`` is the one-line message."""

    status: ClassVar[int] = 500
    """HTTP status this kind of error maps to."""
    code: ClassVar[str] = "error"
    """Short name of the kind, used in JSON error bodies."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(DeskopsError, ValueError):
    """The request cannot be carried out as asked: a bad value, option, file or combination."""

    status = 422
    code = "invalid_input"


class NotFound(DeskopsError, LookupError):
    """The thing asked for does not exist (in this workspace)."""

    status = 404
    code = "not_found"


class Conflict(DeskopsError):
    """The request clashes with the current state: it already exists, it changed meanwhile."""

    status = 409
    code = "conflict"


class Forbidden(DeskopsError):
    """The caller may not do this (their role, or a policy)."""

    status = 403
    code = "forbidden"


class Unavailable(DeskopsError):
    """Something deskops needs is not there or not reachable: a data set, an extra, a provider."""

    status = 503
    code = "unavailable"


__all__ = [
    "Conflict",
    "DeskopsError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Unavailable",
    "first_problem",
]


def first_problem(error: ValidationError) -> str:
    """The first problem of a pydantic validation error as ``where: what`` (one line, no links)."""
    problem = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in problem["loc"])
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
