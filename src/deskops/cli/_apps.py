"""The Typer application and its command groups (commands register in the sibling modules)."""

from __future__ import annotations

import json
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException


class _Root(TyperGroup):
    """The root command: a usage error (an unknown option, a bad value) prints ``{"error": ...}`` on
    stdout when ``--json`` was asked for, like every other error, before the usual message on stderr."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        self._json = "--json" in args
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except TyperException as error:
            self._report(error)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TyperException as error:
            self._report(error)
            raise

    def _report(self, error: TyperException) -> None:
        # Typer's usage errors (Click's, vendored) know their message and exit with status 2.
        format_message = getattr(error, "format_message", None)
        if getattr(self, "_json", False) and getattr(error, "exit_code", None) == 2 and format_message:
            print(json.dumps({"error": format_message()}))


app = typer.Typer(
    cls=_Root,
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
proposals_app = typer.Typer(
    help="Proposed changes: create, review, accept, reject, refine, revert, split.", no_args_is_help=True
)
content_app = typer.Typer(
    help="Versions of articles, rules, procedures, settings and policy.", no_args_is_help=True
)
review_app = typer.Typer(help="Reviewer findings: feedback and statistics.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
runs_app = typer.Typer(
    help="The Operator's run log: runs, and their latency and outcome figures.", no_args_is_help=True
)
frontline_app = typer.Typer(help="The front-line AI agent's confidence model.", no_args_is_help=True)
for group, name in (
    (workspace_app, "workspace"),
    (member_app, "member"),
    (db_app, "db"),
    (bench_app, "bench"),
    (eval_app, "eval"),
    (index_app, "index"),
    (cohort_app, "cohort"),
    (conversation_app, "conversation"),
    (proposals_app, "proposals"),
    (content_app, "content"),
    (review_app, "review"),
    (audit_app, "audit"),
    (runs_app, "runs"),
    (frontline_app, "frontline"),
):
    app.add_typer(group, name=name)
