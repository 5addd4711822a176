"""Size: a proposal over the workspace's limit (items or changed words) is blocked and must be split."""

from __future__ import annotations

from deskops.changes.review.context import Findings, ReviewContext, Reviewer


def check(context: ReviewContext) -> Findings:
    found = Findings()
    policy, diff = context.policy, context.diff
    items, words = len(diff.items), diff.changed_words
    if items <= policy.max_items and words <= policy.max_changed_words:
        return found
    per_item = [f"{d.key}: +{d.words_added} -{d.words_removed} words" for d in diff.items]
    if items > 1:
        advice = "split it with `deskops proposals split ID` (one proposal per item)"
    else:
        advice = "break the change into smaller edits, or an admin can raise the limit in the review policy"
    found.block(
        "size.too_large",
        f"This proposal changes {items} item{'s' if items != 1 else ''} and {words} words; the limit is "
        f"{policy.max_items} items and {policy.max_changed_words} changed words, because large changes are "
        f"hard to review well: {advice}.",
        evidence=per_item,
    )
    return found


REVIEWER = Reviewer("size", "the proposal is small enough to review (items and changed words)", check)
