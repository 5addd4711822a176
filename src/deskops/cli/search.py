"""Search and the search index."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskops.cli._apps import (
    app,
    index_app,
)
from deskops.cli._common import (
    Db,
    Json,
    Workspace,
    _emit,
    _parse_filters,
    _services,
    _stage_progress,
    err,
    out,
)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    workspace: Workspace = "demo",
    k: Annotated[int, typer.Option("--k", help="How many documents to return (1-100).")] = 10,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="KEY=VALUE, repeatable; keys: kind, state, product_area, locale, topic, since, until.",
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="hybrid_rerank, hybrid, rrf, bm25 or dense.")] = "hybrid_rerank",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Hybrid search over a workspace's articles and conversations, with why each hit matched."""
    filters = _parse_filters(filter_, as_json=as_json)
    with _services(db, as_json=as_json) as services, _stage_progress() as progress:
        response = services.search.search(
            workspace, query, k=k, filters=filters, method=method, progress=progress
        )
    _emit(response, as_json=as_json, render=_render_search)


def _render_search(d: dict[str, Any]) -> None:
    for notice in d["notices"]:
        err.print(f"[yellow]note:[/yellow] {notice}", highlight=False)
    verdict = "no good match: consider not answering" if d["abstain"] else "good match"
    out.print(f"confidence {d['confidence']:.2f} ({verdict})")
    for rank, hit in enumerate(d["hits"], start=1):
        why = hit["why"]
        out.print(
            f"{rank:2d}. [bold]{hit['title']}[/bold]  {hit['id']}  score {hit['score']:.3f}", highlight=False
        )
        out.print(
            f"    matched {', '.join(why['matched_terms']) or '-'}; bm25 rank {why['bm25_rank'] or '-'}, "
            f"dense {why['dense'] if why['dense'] is not None else '-'} rank {why['dense_rank'] or '-'}",
            highlight=False,
        )


@index_app.command("rebuild")
def index_rebuild(workspace: Workspace = "demo", db: Db = None, as_json: Json = False) -> None:
    """Rebuild a workspace's search index from scratch (unchanged text is not re-embedded)."""
    with _services(db, as_json=as_json) as services, _stage_progress() as progress:
        built = services.search.rebuild(workspace, progress=progress)
    _emit(
        built,
        as_json=as_json,
        render=lambda d: out.print(
            f"Indexed {d['chunks']:,} passages of {d['workspace']} in {d['segments']} segment(s)."
        ),
    )
