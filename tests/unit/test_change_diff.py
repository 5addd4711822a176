"""Diffs: blocks then words, both sides rebuilt exactly; fields by JSON pointer; the three views."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deskops.changes.diff import (
    blocks,
    body_changes,
    diff,
    field_changes,
    rebuild,
    render_text,
    render_unified,
)
from deskops.domain.changes import ItemChange

WORDS = st.sampled_from(
    ["refund", "within", "14", "days", "Payouts", "arrive", "the", "card", "**Update:**", "–"]
)
LINE = st.one_of(
    st.lists(WORDS, min_size=1, max_size=8).map(" ".join),
    st.lists(WORDS, min_size=1, max_size=5).map(lambda w: "- " + " ".join(w)),
    st.lists(WORDS, min_size=1, max_size=5).map(lambda w: "## " + " ".join(w)),
    st.lists(WORDS, min_size=1, max_size=5).map(lambda w: "3. " + " ".join(w)),
    st.just(""),
    st.just("   "),
)
BODY = st.lists(LINE, max_size=14).map(lambda lines: "\n".join(lines)) | st.lists(LINE, max_size=14).map(
    lambda lines: "\n".join(lines) + "\n"
)


@given(BODY)
def test_blocks_cover_the_body_exactly(body: str) -> None:
    assert "".join(blocks(body)) == body


@settings(max_examples=300)
@given(BODY, BODY)
def test_both_sides_of_a_body_diff_rebuild_exactly(before: str, after: str) -> None:
    changes = body_changes(before, after)
    assert rebuild(changes, "before") == before
    assert rebuild(changes, "after") == after
    for change in changes:
        if change.op == "replace":
            assert "".join(w.text for w in change.words if w.op != "insert") == change.before
            assert "".join(w.text for w in change.words if w.op != "delete") == change.after


def test_a_changed_figure_is_one_word_out_one_word_in_inside_its_block() -> None:
    before = (
        "Summary.\n\n## Good to know\n\n- Reset links expire after 60 minutes.\n- Up to 5 emails per hour.\n"
    )
    after = before.replace("60 minutes", "30 minutes")
    item = ItemChange(
        kind="article",
        external_id="kb-1",
        action="update",
        base_version=3,
        before={"title": "Reset", "body": before, "state": "published"},
        after={"title": "Reset", "body": after, "state": "published"},
    )
    (shown,) = diff([item]).items
    assert (shown.words_added, shown.words_removed, shown.fields) == (1, 1, [])
    (replaced,) = [b for b in shown.blocks if b.op != "equal"]
    assert (replaced.index_before, replaced.index_after) == (2, 2)
    assert [(w.op, w.text) for w in replaced.words] == [
        ("equal", "- Reset links expire after "),
        ("delete", "60"),
        ("insert", "30"),
        ("equal", " minutes.\n"),
    ]
    assert "60" in render_text(diff([item])).plain and "30" in render_text(diff([item])).plain
    unified = render_unified([item])
    assert (
        "-- Reset links expire after 60 minutes." in unified
        and "+- Reset links expire after 30 minutes." in unified
    )
    assert unified.startswith("--- a/article/kb-1@v3\n+++ b/article/kb-1\n")


def test_fields_are_compared_by_json_pointer() -> None:
    before = {
        "title": "Legal",
        "condition": {"keywords": ["lawyer", "court"], "plan": None},
        "steps": [{"a": 1}],
    }
    after = {
        "title": "Legal threats",
        "condition": {"keywords": ["lawyer"], "topic": "legal"},
        "steps": [{"a": 2}],
    }
    found = {(f.path, str(f.before), str(f.after)) for f in field_changes(before, after)}
    assert found == {
        ("/title", "Legal", "Legal threats"),
        ("/condition/keywords", "['lawyer', 'court']", "['lawyer']"),
        ("/condition/topic", "None", "legal"),
        ("/steps/0/a", "1", "2"),
    }
    assert field_changes({"a/b": 1}, {"a/b": 2})[0].path == "/a~1b"


def test_an_archived_item_counts_as_one_changed_word_not_its_whole_text() -> None:
    body = "word " * 500
    item = ItemChange(
        kind="article",
        external_id="kb-2",
        action="archive",
        base_version=1,
        before={"title": "Old", "body": body, "state": "published"},
        after={"title": "Old", "body": body, "state": "archived"},
    )
    assert diff([item]).changed_words == 2  # published -> archived
