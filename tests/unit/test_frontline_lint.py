"""Configuration checks of the front-line agent, on hand-made rules and procedures (no workspace)."""

from __future__ import annotations

from datetime import UTC, datetime

from deskops.domain.models import GuidanceRule, Procedure, ProcedureStep, RuleCondition, RuleKind
from deskops.frontline.lint import Vocabulary, covers, lint_procedures, lint_rules, step_reach

AT = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = Vocabulary(segments={"plan": {"Free", "Starter"}}, topics={"refund", "lost_card"})


def rule(external_id: str, kind: str = "handover", enabled: bool = True, **condition: object) -> GuidanceRule:
    return GuidanceRule(
        external_id=external_id,
        title=external_id,
        body="b",
        kind=RuleKind(kind),
        condition=RuleCondition(**condition),  # type: ignore[arg-type]
        enabled=enabled,
        updated_at=AT,
    )


def procedure(
    external_id: str, topics: list[str], *steps: list[str], required: list[str] | None = None
) -> Procedure:
    return Procedure(
        external_id=external_id,
        title=external_id,
        trigger_topics=topics,
        steps=[ProcedureStep(instruction=f"step {n}", requires=r) for n, r in enumerate(steps, 1)],
        required_data=required if required is not None else sorted({x for r in steps for x in r}),
        updated_at=AT,
    )


def codes(findings: list) -> set[tuple[str, tuple[str, ...]]]:  # type: ignore[type-arg]
    return {(f.code, tuple(f.items)) for f in findings}


def test_a_broad_rule_covers_a_narrower_one_but_keywords_match_whole_words() -> None:
    assert covers(rule("a", plan="Free"), rule("b", plan="Free", topic="refund"))
    assert not covers(rule("a", plan="Free", topic="refund"), rule("b", plan="Free"))
    assert covers(rule("a", keywords=["card"]), rule("b", keywords=["lost card"]))
    assert not covers(rule("a", keywords=["invest"]), rule("b", keywords=["investment advice"]))
    assert not covers(rule("a"), rule("b", plan="Free"))  # no condition never matches


def test_rule_findings_follow_the_order_the_agent_checks_them() -> None:
    rules = [
        rule("broad", plan="Free"),
        rule("narrow", plan="Free", topic="refund"),
        rule("typo", plan="Startr"),
        rule("empty", kind="forbidden"),
        rule("blocks", topic="lost_card"),
        rule("words-1", kind="forbidden", keywords=["lawyer"]),
        rule("words-2", keywords=["Lawyer", "press"]),
        rule("off", enabled=False, plan="Free"),
        rule("tone", kind="tone"),
    ]
    found = lint_rules(rules, [procedure("p-card", ["lost_card"], ["card_last4"], [])], WORDS)
    assert codes(found) == {
        ("rule.shadowed", ("guidance:narrow", "guidance:broad")),
        ("rule.unknown_value", ("guidance:typo",)),
        ("rule.no_condition", ("guidance:empty",)),
        ("rule.blocks_procedure", ("guidance:blocks", "procedure:p-card")),
        ("rule.shared_keywords", ("guidance:words-2", "guidance:words-1")),
        ("rule.disabled", ("guidance:off",)),
    }
    typo = next(f for f in found if f.code == "rule.unknown_value")
    assert "did you mean Starter" in typo.message and found[0].severity == "conflict"


def test_steps_after_a_hand_over_or_already_asked_for_never_run() -> None:
    p = procedure("p", ["refund"], ["invoice_number"], ["invoice_number"], [], ["amount"])
    reach = step_reach(p)
    assert [s.run_by_ai for s in reach] == [True, False, True, False]
    assert reach[1].why.startswith("skipped") and "hands over at step 3" in reach[3].why


def test_procedure_findings() -> None:
    procedures = [
        procedure("first", ["refund"], ["invoice_number"], []),
        procedure("second", ["refund", "ghost"], ["loyalty_code"], [], required=["card_last4"]),
        Procedure(external_id="hollow", title="hollow", trigger_topics=["refund"], steps=[], updated_at=AT),
    ]
    found = lint_procedures(procedures, [rule("hand", topic="lost_card")], WORDS)
    assert codes(found) == {
        ("procedure.shadowed", ("procedure:second", "procedure:first")),
        ("procedure.unknown_topic", ("procedure:second",)),
        ("procedure.undeclared_data", ("procedure:second",)),
        ("procedure.no_extractor", ("procedure:second",)),
        ("procedure.no_steps", ("procedure:hollow",)),
    }
    blocked = lint_procedures(
        [procedure("card", ["lost_card"], ["card_last4"], [], [])], [rule("hand", topic="lost_card")], WORDS
    )
    assert codes(blocked) == {
        ("procedure.blocked_by_rule", ("procedure:card", "guidance:hand")),
        ("procedure.unreachable_steps", ("procedure:card",)),
    }
    (unreachable,) = [f for f in blocked if f.code == "procedure.unreachable_steps"]
    assert unreachable.message.startswith("In card, step 3 is never run")
