"""The Operator from the command line: ``deskops ask``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskops.cli._apps import app
from deskops.cli._common import Db, Json, Workspace, _emit, _services, out


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="What you want to know, in your words.")],
    workspace: Workspace = "demo",
    session: Annotated[str | None, typer.Option(help="Continue this session (follow-up questions).")] = None,
    as_: Annotated[
        str | None, typer.Option("--as", help="Ask as this workspace member (their role applies).")
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Ask the Operator about this workspace: a grounded answer with tables, charts and evidence."""
    from deskops.cli.changes import _who

    with _services(db, as_json=as_json) as services:
        actor = _who(services, workspace, as_)
        answer = services.operator.ask(workspace=workspace, question=question, actor=actor, session=session)
    _emit(answer, as_json=as_json, render=_render)


def _render(d: dict[str, Any]) -> None:
    from rich.table import Table

    out.print(d["answer"], highlight=False)
    for block in d["blocks"]:
        if block["type"] == "table":
            table = Table(title=block["title"], title_justify="left")
            for column in block["columns"]:
                table.add_column(str(column))
            for row in block["rows"]:
                table.add_row(*("" if v is None else str(v) for v in row))
            out.print(table)
        elif block["type"] == "evidence":
            out.print(f"[bold]{block['title']}[/bold]")
            for snippet in block["snippets"][:10]:
                out.print(f"  {snippet['source']}: {snippet['text'][:200]}", highlight=False)
        elif block["type"] == "chart":
            out.print(f"[dim](chart: {block['title']}; see --json or the web app)[/dim]")
    tools = ", ".join(d["tools"]) or "none"
    footer = f"skill: {d['skill'] or '-'} · tools: {tools} · model: {d['model']} · session {d['session']}"
    out.print(f"[dim]{footer}[/dim]", highlight=False)
