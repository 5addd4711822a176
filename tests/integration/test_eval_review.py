"""The review evaluation's labelled set is what it says, and a whole run meets its targets (slow)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import Services, build
from deskops.changes.review._facts import sentences
from deskops.harness.eval_review import (
    GOOD,
    SPLITS,
    UNSAFE,
    generate,
    review_workspace,
    run,
    workspace_content,
)
from deskops.simulate.workspace import simulate_workspace
from hashing_embedder import HashingEmbedder


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    folder = tmp_path_factory.mktemp("eval-review")
    built = build(database_url=f"sqlite:///{folder / 'e.db'}", data_dir=folder, embedder=HashingEmbedder())
    with built.uow() as uow:
        simulate_workspace(
            uow=uow,
            config=review_workspace(SPLITS["dev"], 600, "labels", days=30),
            truth_path=folder / "truth.json",
        )
    yield built
    built.close()


@pytest.mark.parametrize("split", ["dev", "test"])
def test_every_kind_is_generated_and_each_contradiction_names_items_that_state_the_fact(
    services: Services, split: str
) -> None:
    content = workspace_content(services, "labels")
    cases = generate(content, split, random.Random(1))
    kinds = {c.kind for c in cases}
    assert set(UNSAFE) | {"contradiction", "oversized", "description_mismatch"} <= kinds
    assert {"good_new_article", "good_reword", "good_add_note"} <= kinds and kinds <= {
        *GOOD,
        *UNSAFE,
        "contradiction",
        "oversized",
        "description_mismatch",
    }
    contradictions = [c for c in cases if c.kind == "contradiction"]
    assert len(contradictions) >= 20
    for case in contradictions:
        assert case.expected and all(key in content for key in case.expected)
        key, edited = _edited(case.draft.change_set.model_dump())
        gone = set(sentences(_text(content[key]))) - set(sentences(edited))
        assert len(gone) == 1, case.draft.title  # one sentence changed
        numbers = set(re.findall(r"\d[\d,.]*", gone.pop()))
        # ... and an expected item states one of the figures that sentence had
        assert any(n in _text(content[other]) for other in case.expected for n in numbers), case.draft.title


def _text(item: dict[str, Any]) -> str:
    return str(item.get("body") or "") + " ".join(s.get("instruction", "") for s in item.get("steps") or [])


def _edited(change_set: dict[str, Any]) -> tuple[str, str]:
    for section, kind in (("articles", "article"), ("guidance", "guidance"), ("procedures", "procedure")):
        for item in change_set[section]:
            return f"{kind}:{item['external_id']}", _text(item)
    raise AssertionError("no item")


def test_the_splits_differ_in_values_not_only_in_workspaces(services: Services) -> None:
    content = workspace_content(services, "labels")
    dev = {c.draft.description for c in generate(content, "dev", random.Random(1))}
    test = {c.draft.description for c in generate(content, "test", random.Random(1))}
    assert len(dev & test) < 0.7 * min(len(dev), len(test))


@pytest.mark.slow
def test_the_dev_split_meets_the_targets_with_the_real_model(tmp_path: Path, real_embedder: Any) -> None:
    services = build(database_url=f"sqlite:///{tmp_path / 'r.db'}", data_dir=tmp_path, embedder=real_embedder)
    try:
        report = run(services=services, split="dev", conversations=1500, folder=tmp_path)
    finally:
        services.close()
    overall = report["overall"]
    assert overall["contradictions_caught_naming_item"] >= 0.95
    assert overall["unsafe_blocked"] >= 0.95 and overall["good_blocked"] <= 0.05
