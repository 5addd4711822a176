"""The `deskops` command line. Commands stay thin: parse, call a service, print.

Every reporting command takes ``--json`` and then prints exactly one JSON document
on stdout; progress bars and errors go to stderr. Commands live in modules by
group (data, analytics, search, frontline, changes, operator, runs, evals) and register on the one ``app``.
"""

from __future__ import annotations

from deskops.cli import (  # noqa: F401 (register commands)
    analytics,
    changes,
    data,
    evals,
    frontline,
    operator,
    runs,
    search,
)
from deskops.cli._apps import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
