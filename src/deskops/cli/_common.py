"""What every command shares: options, error handling, output, progress bars."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from deskops.bootstrap import Services, build
from deskops.errors import DeskopsError, InvalidInput

err = Console(stderr=True)
out = Console()

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $DESKOPS_DATABASE_URL or sqlite:///.deskops/deskops.db).",
        show_default=False,
    ),
]
Workspace = Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def fail(message: str, *, as_json: bool) -> NoReturn:
    if as_json:
        print(json.dumps({"error": message}))
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _services(db: str | None, *, as_json: bool) -> Iterator[Services]:
    """Build the services; the project's errors become one clear line and exit code 1.

    Only ``DeskopsError`` is caught: anything else is a bug and keeps its traceback.
    """
    with reported(as_json=as_json):
        services = build(database_url=db)
        try:
            yield services
        finally:
            services.close()


@contextmanager
def reported(*, as_json: bool) -> Iterator[None]:
    """Turn a ``DeskopsError`` raised inside into one line on stderr (and a JSON document) and exit 1."""
    from deskops.importers import ImportFailed

    try:
        yield
    except ImportFailed as exc:
        if as_json:
            print(json.dumps({"error": "import failed", "errors": [e.as_dict() for e in exc.errors]}))
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except DeskopsError as exc:
        fail(str(exc), as_json=as_json)


def _emit(
    result: BaseModel | dict[str, Any], *, as_json: bool, render: Callable[[dict[str, Any]], None]
) -> None:
    """Print a result: one JSON document with ``--json`` (a model is dumped as it is), else ``render`` it."""
    document = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    if as_json:
        print(json.dumps(document, default=str))
    else:
        render(document)


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (pulsing when ``total`` is unknown); yields a callback taking items done."""
    with _bar() as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


def _within(option: str, value: int, low: int, high: int) -> int:
    """``value`` when ``low <= value <= high``; else InvalidInput naming the option and the range."""
    if not low <= value <= high:
        raise InvalidInput(f"{option} must be between {low:,} and {high:,}, not {value:,}")
    return value


def _parse_filters(items: list[str] | None, *, as_json: bool) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--filter takes KEY=VALUE, got {item!r}", as_json=as_json)
        filters[key.strip()] = value.strip()
    return filters


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} must be a date like 2026-10-01, not {value!r}") from None


@contextmanager
def _stage_progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """Progress of index work, shown only when there is work: a bar per stage on a terminal,
    else one line per stage on stderr (a long first build is never silent)."""
    with _bar() as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"index: {stage}", total=total)
                if not err.is_terminal:
                    size = f" ({total:,})" if total else ""
                    err.print(f"index: {stage}{size} ...", highlight=False, soft_wrap=True)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _bar() -> Progress:
    """Progress bars go to stderr, and only when it is a terminal (JSON on stdout stays clean)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )


def _parse_period(from_: str, to: str) -> tuple[date, date]:
    """The --from and --to days of a report."""
    start, end = _parse_day(from_, "--from"), _parse_day(to, "--to")
    assert start is not None and end is not None
    return start, end
