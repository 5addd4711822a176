"""The Typer application and its command groups (commands register in the sibling modules)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="deskops: the operations agent for customer-support teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
workspace_app = typer.Typer(help="Create, list and delete workspaces.", no_args_is_help=True)
member_app = typer.Typer(help="Workspace members, roles and API tokens.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print their figures as JSON.", no_args_is_help=True)
eval_app = typer.Typer(help="Quality evaluations that print their figures as JSON.", no_args_is_help=True)
index_app = typer.Typer(help="The per-workspace search index.", no_args_is_help=True)
cohort_app = typer.Typer(help="Saved customer cohorts, usable as --filter cohort=NAME.", no_args_is_help=True)
conversation_app = typer.Typer(help="A workspace's conversations.", no_args_is_help=True)
for group, name in (
    (workspace_app, "workspace"),
    (member_app, "member"),
    (db_app, "db"),
    (bench_app, "bench"),
    (eval_app, "eval"),
    (index_app, "index"),
    (cohort_app, "cohort"),
    (conversation_app, "conversation"),
):
    app.add_typer(group, name=name)
