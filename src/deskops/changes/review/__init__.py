"""Reviewers: independent checks every proposal and every refinement goes through.

Each reviewer is a small module with one function, ``check(context) -> Findings``,
registered through the plugin surface (``hookspecs.register_reviewers``) exactly as a
third-party reviewer would be: this module is the built-ins' plugin (see
``[project.entry-points.deskops]`` in pyproject.toml). The board runs them all, in
threads, each with a time limit; one that crashes or runs out of time yields a ``warn``
finding saying so — never a silent pass. The workspace's policy may downgrade finding
codes from ``block`` to ``warn``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from deskops.changes.review.context import ReviewContext, Reviewer

__all__ = ["NEVER_DOWNGRADED", "ReviewBoard", "Reviewer", "register_reviewers"]
from deskops.domain.changes import Finding, Review, worst
from deskops.hookspecs import hookimpl


@hookimpl
def register_reviewers(register: Callable[[Reviewer], None]) -> None:
    from deskops.changes.review import consistency, description, impact, intent, safety, size, style

    for module in (description, intent, safety, consistency, impact, style, size):
        register(module.REVIEWER)


NEVER_DOWNGRADED = frozenset(
    {
        "safety.personal_data",
        "safety.hidden_instructions",
        "safety.sensitive_handover",
        "safety.all_handover_disabled",
    }
)
"""Finding codes feedback can never turn into warnings (an admin can still override a proposal)."""


class ReviewBoard:
    """Runs every registered reviewer on a proposal and collects their verdicts."""

    def __init__(self, reviewers: dict[str, Reviewer]) -> None:
        self.reviewers = reviewers

    def run(self, context: ReviewContext, *, replay: bool = True) -> list[Review]:
        """Every reviewer's review, in registration order. ``replay=False`` skips those that replay."""
        chosen = [r for r in self.reviewers.values() if replay or not r.replays]
        timeout = context.policy.reviewer_timeout_s
        # Warm what several reviewers share before they race for it.
        _ = context.diff, context.after, context.facts_after
        pool = ThreadPoolExecutor(max_workers=max(1, len(chosen)), thread_name_prefix="reviewer")
        began = time.perf_counter()
        futures = {r.name: pool.submit(_timed, r, context) for r in chosen}
        wait(futures.values(), timeout=timeout)
        pool.shutdown(wait=False, cancel_futures=True)
        reviews = []
        for reviewer in chosen:
            future = futures[reviewer.name]
            if not future.done():
                elapsed = (time.perf_counter() - began) * 1000
                reviews.append(_broken(reviewer, f"did not finish within {timeout:g} s", elapsed))
                continue
            error = future.exception()
            if error is not None:
                reviews.append(_broken(reviewer, f"failed: {type(error).__name__}: {error}"[:300], 0.0))
                continue
            findings, elapsed = future.result()
            reviews.append(_review(reviewer, findings, elapsed, context))
        return reviews


def _timed(reviewer: Reviewer, context: ReviewContext) -> tuple[list[Finding], float]:
    began = time.perf_counter()
    found = reviewer.check(context).items
    return found, (time.perf_counter() - began) * 1000


def _review(reviewer: Reviewer, findings: list[Finding], elapsed: float, context: ReviewContext) -> Review:
    downgraded = set(context.policy.downgraded) - NEVER_DOWNGRADED
    out = []
    for finding in findings:
        update: dict[str, object] = {"reviewer": reviewer.name}
        if finding.verdict == "block" and finding.code in downgraded:
            update |= {"verdict": "warn", "downgraded": True}
        out.append(finding.model_copy(update=update))
    return Review(
        reviewer=reviewer.name,
        verdict=worst([f.verdict for f in out]),
        findings=out,
        duration_ms=round(elapsed, 2),
        summary=reviewer.summary,
    )


def _broken(reviewer: Reviewer, what: str, elapsed: float) -> Review:
    finding = Finding(
        reviewer=reviewer.name,
        code=f"{reviewer.name}.unavailable",
        verdict="warn",
        item=None,
        message=f"The {reviewer.name} reviewer {what}: its checks did not run, so nothing is known from it.",
    )
    return Review(
        reviewer=reviewer.name,
        verdict="warn",
        findings=[finding],
        duration_ms=round(elapsed, 2),
        summary=reviewer.summary,
    )
