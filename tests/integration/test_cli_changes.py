"""The action layer from the command line on a simulated workspace: the whole lifecycle, and errors.

create -> review -> refine -> accept -> history -> revert -> audit verify, with --json contracts,
one-line errors that store nothing, and --as for a member's role.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskops import bootstrap
from deskops.cli import _common, app
from hashing_embedder import HashingEmbedder


@pytest.fixture(autouse=True)
def test_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "build", functools.partial(bootstrap.build, embedder=HashingEmbedder()))


def deskops(*args: str, expect: int = 0) -> Any:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == expect, (result.stdout, result.stderr)
    if "--json" in args:
        return json.loads(result.stdout)
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("cli-changes")
    db = f"sqlite:///{folder / 'c.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_common, "build", functools.partial(bootstrap.build, embedder=HashingEmbedder()))
        patch.setenv("DESKOPS_DATA_DIR", str(folder / "data"))
        deskops("simulate", "--db", db, "--seed", "5", "--conversations", "1500", "--days", "30",
                "--truth", str(folder / "truth.json"), "--json")  # fmt: skip
        deskops("member", "add", "viewer@lumio.test", "-w", "demo", "--role", "viewer", "--db", db)
    return folder, db


def _article(db: str) -> tuple[str, str]:
    """An article of the demo whose body states a figure twice (so a one-place edit contradicts it)."""
    from deskops.bootstrap import build

    services = build(database_url=db)
    try:
        with services.uow() as uow:
            for article in uow.workspace("demo").articles.list(state="published"):
                if article.body.count("60 minutes") >= 2:
                    return article.external_id, article.body
    finally:
        services.close()
    raise AssertionError("the simulated help center has no such article")


def test_the_lifecycle_from_the_command_line(
    world: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, db = world
    monkeypatch.setenv("DESKOPS_DATA_DIR", str(folder / "data"))
    external_id, body = _article(db)
    one_place = folder / "one.json"
    edited = body.replace("60 minutes", "30 minutes", 1)
    one_place.write_text(json.dumps({"articles": [{"external_id": external_id, "body": edited}]}))
    made = deskops(
        "proposals", "create", "--file", str(one_place), "--title", "Reset links last 30 minutes",
        "--description", "Security shortened reset links to 30 minutes, so the article must say so.",
        "--db", db, "--json",
    )  # fmt: skip
    first = made["proposal"]["id"]
    assert made["verdict"] == "block" and made["proposal"]["state"] == "open"
    assert {r["reviewer"] for r in made["reviews"]} == {
        "description", "intent", "safety", "consistency", "impact", "style", "size",
    }  # fmt: skip
    contradiction = next(
        f for r in made["reviews"] for f in r["findings"] if f["code"] == "consistency.contradiction"
    )
    assert contradiction["related"] == [f"article:{external_id}"] and contradiction["id"] >= 1
    shown = deskops("proposals", "show", str(first), "--diff", "--db", db, "--json")
    assert shown["diff"]["items"][0]["words_added"] == 1 and "-" in shown["unified_diff"]
    text = deskops("proposals", "show", str(first), "--diff", "--db", db)
    assert "consistency.contradiction" not in text and "block" in text and f"proposal {first}" in text

    refined = deskops(
        "proposals", "refine", str(first), "--instruction", 'replace "60 minutes" with "30 minutes"',
        "--db", db, "--json",
    )  # fmt: skip
    second = refined["proposal"]["id"]
    assert refined["proposal"]["revision"] == 2 and refined["verdict"] != "block", refined["reviews"]
    assert [p["state"] for p in refined["thread"]] == ["superseded", "open"]

    viewer = deskops("proposals", "accept", str(second), "--as", "viewer@lumio.test", "--db", db, "--json",
                     expect=1)  # fmt: skip
    assert "viewer" in viewer["error"] and "needs editor" in viewer["error"]
    applied = deskops("proposals", "accept", str(second), "--db", db, "--json")
    assert applied["versions"] == {f"article:{external_id}": 2} and applied["proposal"]["state"] == "applied"
    assert deskops("proposals", "accept", str(second), "--db", db, "--json")["already"] is True

    history = deskops("content", "history", "article", external_id, "--db", db, "--json")
    assert [(v["version"], v["proposal_id"]) for v in history["versions"]] == [(1, None), (2, second)]
    assert history["versions"][1]["why"] == "Reset links last 30 minutes"
    assert "60 minutes" not in history["versions"][1]["content"]["body"]

    reverted = deskops("proposals", "revert", str(second), "--reason", "rolled back", "--db", db, "--json")
    assert reverted["versions"] == {f"article:{external_id}": 3}
    assert (
        deskops("content", "history", "article", external_id, "--db", db, "--json")["versions"][2]["content"][
            "body"
        ]
        == body
    )

    verified = deskops("audit", "verify", "--db", db, "--json")
    assert verified["ok"] and verified["events"] == 7
    kinds = [
        e["kind"] for e in deskops("audit", "list", "--proposal", str(second), "--db", db, "--json")["events"]
    ]
    assert kinds == ["proposal.refined", "proposal.reviewed", "proposal.approved", "proposal.applied",
                     "proposal.reverted"]  # fmt: skip
    checkpoint = folder / "head.json"
    deskops("audit", "checkpoint", "--output", str(checkpoint), "--db", db, "--json")
    assert deskops("audit", "verify", "--against", str(checkpoint), "--db", db, "--json")["ok"]
    exported = folder / "audit.jsonl"
    assert deskops("audit", "export", "--output", str(exported), "--db", db, "--json")["events"] == 7
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, 8)) and all(
        len(line["hash"]) == 64 for line in lines
    )

    feedback = deskops("review", "feedback", str(contradiction["id"]), "--not-helpful", "--db", db, "--json")
    assert feedback["downgraded_by_proposal"] is None
    stats = deskops("review", "stats", "--db", db, "--json")
    consistency = next(r for r in stats["reviewers"] if r["reviewer"] == "consistency")
    assert consistency["not_helpful"] == 1 and consistency["blocks"] >= 1


def test_bad_input_is_one_line_and_stores_nothing(
    world: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, db = world
    monkeypatch.setenv("DESKOPS_DATA_DIR", str(folder / "data"))
    fine = folder / "fine.json"
    fine.write_text(json.dumps({"guidance": [{"external_id": "gr-tone", "body": "Be friendly and brief."}]}))
    open_one = deskops(
        "proposals", "create", "--file", str(fine), "--title", "Shorter tone rule", "--no-replay",
        "--description", "Shortens the tone rule gr-tone because agents found it wordy.",
        "--db", db, "--json",
    )["proposal"]["id"]  # fmt: skip
    before = deskops("audit", "verify", "--db", db, "--json")["events"]
    count = len(deskops("proposals", "list", "--db", db, "--json")["proposals"])
    broken = folder / "broken.json"
    broken.write_text("{not json")
    unknown = folder / "unknown.json"
    unknown.write_text(json.dumps({"archive": [{"kind": "article", "external_id": "kb-nope"}]}))
    bad_field = folder / "field.json"
    bad_field.write_text(json.dumps({"guidance": [{"external_id": "gr-legal", "condition": {"plann": "x"}}]}))
    create = ("proposals", "create", "--title", "A change", "--description", "Because it is needed now.")
    cases = [
        ((*create, "--file", str(broken)), "is not JSON"),
        ((*create, "--file", str(unknown)), "archive[1] (article kb-nope): there is no article 'kb-nope'"),
        ((*create, "--file", str(bad_field)), "guidance[1] (gr-legal): condition.plann"),
        ((*create, "--file", str(folder / "missing.json")), "cannot read"),
        (("proposals", "accept", "9999"), "no proposal 9999"),
        (("proposals", "reject", "9999", "--reason", "no"), "no proposal 9999"),
        (("proposals", "show", "1", "--workspace", "nope"), "unknown workspace 'nope'"),
        (("proposals", "list", "--state", "pending"), "--state must be one of"),
        (("proposals", "refine", "1"), "exactly one of --file, --instruction or --rebase"),
        (
            ("proposals", "refine", str(open_one), "--instruction", "make it nicer"),
            "offline, an instruction is one of",
        ),
        (
            ("proposals", "refine", str(open_one), "--instruction", 'replace "rude" with "kind"'),
            "'rude' is not in",
        ),
        (("proposals", "accept", "1"), "proposal 1 is superseded"),
        (("content", "history", "page", "kb-1"), "KIND must be one of"),
        (("content", "history", "article", "kb-nope"), "no article 'kb-nope' in this workspace"),
        (("content", "restore", "article", "kb-0001", "--version", "99"), "has no version 99"),
        (("review", "feedback", "99999", "--helpful"), "no finding 99999"),
        (("review", "feedback", "1"), "say --helpful or --not-helpful"),
        (("audit", "verify", "--against", str(broken)), "is not a checkpoint"),
        (("audit", "export", "--json"), "give --output FILE"),
        (("proposals", "create", "--file", str(unknown), "--title", "x", "--description", "y"), "title"),
    ]
    for args, message in cases:
        document = deskops(*args, "--db", db, "--json", expect=1)
        assert message in document["error"], (args, document)
    assert deskops("audit", "verify", "--db", db, "--json")["events"] == before
    assert len(deskops("proposals", "list", "--db", db, "--json")["proposals"]) == count
