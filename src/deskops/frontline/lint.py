"""Checks of the front-line agent's configuration: rules and procedures that conflict, overlap or never run.

Each check follows how the agent decides (``agent.py`` and ``policy.py``): enabled handover
and forbidden rules are checked in order before any procedure, and the first that matches
hands over; the first procedure whose trigger topic matches runs; a procedure asks for the
data its current step requires, and at the first step that requires nothing it hands over
to a person or a system, so the steps after it are never run by the AI agent.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

from deskops.domain.models import SEGMENT_KEYS, GuidanceRule, Procedure, RuleKind
from deskops.domain.types import Result
from deskops.frontline.policy import EXTRACTORS

Severity = Literal["conflict", "overlap", "dead", "warning", "note"]
SEVERITY_ORDER: dict[str, int] = {"conflict": 0, "dead": 1, "overlap": 2, "warning": 3, "note": 4}


class ConfigFinding(Result):
    """One problem with the front-line agent's rules or procedures."""

    severity: Severity
    """conflict: two items want different things; dead: an item never applies; overlap: an item changes
    nothing another does not already do; warning: likely not what was meant; note: for information."""
    code: str
    """e.g. ``rule.blocks_procedure``, ``procedure.unreachable_steps``."""
    items: list[str]
    """The items it is about (``guidance:gr-legal``, ``procedure:proc-refund``), the one to fix first."""
    message: str


class StepReach(Result):
    """Whether the AI agent ever runs one step of a procedure."""

    step: int
    """1-based."""
    instruction: str
    requires: list[str]
    run_by_ai: bool
    why: str


@dataclass
class Vocabulary:
    """The values the workspace's data has, to tell a condition that can match from one that cannot."""

    segments: dict[str, set[str]] = field(default_factory=dict)
    """plan, region, company_size, channel, product_area, language -> values seen."""
    topics: set[str] = field(default_factory=set)


def _key(kind: str, external_id: str) -> str:
    return f"{kind}:{external_id}"


def _acts(rule: GuidanceRule) -> bool:
    return rule.enabled and rule.kind in (RuleKind.handover, RuleKind.forbidden)


def _constraints(rule: GuidanceRule) -> dict[str, str]:
    found = dict(rule.condition.segment())
    if rule.condition.topic is not None:
        found["topic"] = rule.condition.topic
    if rule.condition.failed_answers is not None:
        found["failed_answers"] = str(rule.condition.failed_answers)
    return found


def covers(broad: GuidanceRule, narrow: GuidanceRule) -> bool:
    """True when ``broad`` matches every conversation ``narrow`` matches (so ``narrow`` never decides if
    ``broad`` is checked first)."""
    a, b = _constraints(broad), _constraints(narrow)
    if not a and broad.condition.keywords is None:
        return False  # a rule without a condition never matches
    if any(b.get(k, "").lower() != v.lower() for k, v in a.items() if k != "failed_answers"):
        return False
    if "failed_answers" in a and int(a["failed_answers"]) > int(b.get("failed_answers", "0")):
        return False
    if broad.condition.keywords is not None:
        if narrow.condition.keywords is None:
            return False
        wanted = {k.lower() for k in broad.condition.keywords}
        # Keywords match as whole words: "invest" does not cover "investment advice".
        return all(
            any(re.search(rf"\b{re.escape(w)}\b", k.lower()) for w in wanted)
            for k in narrow.condition.keywords
        )
    return True


def lint_rules(
    rules: list[GuidanceRule], procedures: list[Procedure], vocabulary: Vocabulary
) -> list[ConfigFinding]:
    """Every problem with the guidance rules, in the order the agent checks them."""
    found: list[ConfigFinding] = []
    acting = [r for r in rules if _acts(r)]
    for rule in rules:
        key = _key("guidance", rule.external_id)
        if not rule.enabled:
            found.append(
                ConfigFinding(
                    severity="note",
                    code="rule.disabled",
                    items=[key],
                    message=f"{rule.external_id} ({rule.title!r}) is disabled.",
                )
            )
            continue
        if rule.kind not in (RuleKind.handover, RuleKind.forbidden):
            continue
        if not _constraints(rule) and rule.condition.keywords is None:
            found.append(
                ConfigFinding(
                    severity="dead",
                    code="rule.no_condition",
                    items=[key],
                    message=f"{rule.external_id} ({rule.title!r}) is a {rule.kind.value} rule with no "
                    "condition: it never matches a conversation (give it keywords, a topic or a segment).",
                )
            )
        for name in SEGMENT_KEYS:
            value = getattr(rule.condition, name)
            known = vocabulary.segments.get(name)
            if value is not None and known and value.lower() not in {k.lower() for k in known}:
                close = difflib.get_close_matches(value, sorted(known), n=2, cutoff=0.5)
                found.append(
                    ConfigFinding(
                        severity="dead",
                        code="rule.unknown_value",
                        items=[key],
                        message=f"{rule.external_id} needs {name}={value}, which no conversation or "
                        "customer has"
                        + (f" (did you mean {', '.join(close)}?)" if close else "")
                        + ": it never matches.",
                    )
                )
        topic = rule.condition.topic
        if topic is not None and vocabulary.topics and topic not in vocabulary.topics:
            found.append(
                ConfigFinding(
                    severity="warning",
                    code="rule.unknown_topic",
                    items=[key],
                    message=f"{rule.external_id} names the topic {topic!r}, which no conversation has: it "
                    "matches only messages that read like its title.",
                )
            )
        for procedure in procedures:
            if (
                procedure.enabled
                and procedure.steps
                and topic is not None
                and topic in procedure.trigger_topics
            ):
                found.append(
                    ConfigFinding(
                        severity="conflict",
                        code="rule.blocks_procedure",
                        items=[key, _key("procedure", procedure.external_id)],
                        message=f"{rule.external_id} hands over every {topic} conversation before the "
                        f"procedure {procedure.external_id} ({procedure.title!r}) can run: rules are "
                        "checked first, so the procedure never runs for that topic. Disable one, or narrow "
                        "the rule.",
                    )
                )
    for i, earlier in enumerate(acting):
        for later in acting[i + 1 :]:
            if covers(earlier, later):
                found.append(
                    ConfigFinding(
                        severity="overlap",
                        code="rule.shadowed",
                        items=[_key("guidance", later.external_id), _key("guidance", earlier.external_id)],
                        message=f"{later.external_id} ({later.title!r}) never decides anything: "
                        f"{earlier.external_id} matches every conversation it matches and is checked first.",
                    )
                )
                continue
            shared = sorted(
                {k.lower() for k in earlier.condition.keywords or []}
                & {k.lower() for k in later.condition.keywords or []}
            )
            if shared:
                severity: Severity = "conflict" if earlier.kind != later.kind else "overlap"
                found.append(
                    ConfigFinding(
                        severity=severity,
                        code="rule.shared_keywords",
                        items=[_key("guidance", later.external_id), _key("guidance", earlier.external_id)],
                        message=f"{earlier.external_id} and {later.external_id} both react to "
                        f"{', '.join(shared)}; {earlier.external_id} is checked first"
                        + (
                            f", so those conversations get its {earlier.kind.value} treatment."
                            if severity == "conflict"
                            else "."
                        ),
                    )
                )
    found.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return found


def step_reach(procedure: Procedure) -> list[StepReach]:
    """Which steps of a procedure the AI agent runs (see the module docstring)."""
    out: list[StepReach] = []
    asked: set[str] = set()
    handover_at: int | None = None
    for n, step in enumerate(procedure.steps, 1):
        if handover_at is not None:
            out.append(
                StepReach(
                    step=n,
                    instruction=step.instruction,
                    requires=step.requires,
                    run_by_ai=False,
                    why=f"the AI agent hands over at step {handover_at}: a person or a system does the rest",
                )
            )
            continue
        if not step.requires:
            handover_at = n
            out.append(
                StepReach(
                    step=n,
                    instruction=step.instruction,
                    requires=[],
                    run_by_ai=True,
                    why="hands over here with the data collected",
                )
            )
            continue
        new = [r for r in step.requires if r not in asked]
        if not new:
            out.append(
                StepReach(
                    step=n,
                    instruction=step.instruction,
                    requires=step.requires,
                    run_by_ai=False,
                    why="skipped: earlier steps already ask for all of its data",
                )
            )
            continue
        asked.update(step.requires)
        out.append(
            StepReach(
                step=n,
                instruction=step.instruction,
                requires=step.requires,
                run_by_ai=True,
                why=f"asks for {', '.join(new)}",
            )
        )
    return out


def lint_procedures(
    procedures: list[Procedure], rules: list[GuidanceRule], vocabulary: Vocabulary
) -> list[ConfigFinding]:
    """Every problem with the procedures, in the order the agent tries them."""
    found: list[ConfigFinding] = []
    claimed: dict[str, str] = {}
    for procedure in procedures:
        key = _key("procedure", procedure.external_id)
        if not procedure.enabled:
            found.append(
                ConfigFinding(
                    severity="note",
                    code="procedure.disabled",
                    items=[key],
                    message=f"{procedure.external_id} ({procedure.title!r}) is disabled.",
                )
            )
            continue
        if not procedure.steps:
            found.append(
                ConfigFinding(
                    severity="dead",
                    code="procedure.no_steps",
                    items=[key],
                    message=f"{procedure.external_id} has no steps: the agent never runs it.",
                )
            )
            continue
        for topic in procedure.trigger_topics:
            if topic in claimed:
                found.append(
                    ConfigFinding(
                        severity="overlap",
                        code="procedure.shadowed",
                        items=[key, _key("procedure", claimed[topic])],
                        message=f"{procedure.external_id} never runs for {topic}: {claimed[topic]} triggers "
                        "on it too and comes first.",
                    )
                )
            else:
                claimed[topic] = procedure.external_id
            if vocabulary.topics and topic not in vocabulary.topics:
                found.append(
                    ConfigFinding(
                        severity="warning",
                        code="procedure.unknown_topic",
                        items=[key],
                        message=f"{procedure.external_id} triggers on {topic!r}, which no conversation has: "
                        "it runs only for messages that read like its title.",
                    )
                )
            for rule in rules:
                if _acts(rule) and rule.condition.topic == topic:
                    found.append(
                        ConfigFinding(
                            severity="conflict",
                            code="procedure.blocked_by_rule",
                            items=[key, _key("guidance", rule.external_id)],
                            message=f"{procedure.external_id} ({procedure.title!r}) never runs for {topic}: "
                            f"the rule {rule.external_id} ({rule.title!r}) hands those conversations over "
                            "first.",
                        )
                    )
        reach = step_reach(procedure)
        never = [s for s in reach if not s.run_by_ai]
        skipped = [s.step for s in never if s.why.startswith("skipped")]
        after = [s.step for s in never if not s.why.startswith("skipped")]
        if after:
            handover = next(s.step for s in reach if s.run_by_ai and not s.requires)
            found.append(
                ConfigFinding(
                    severity="warning",
                    code="procedure.unreachable_steps",
                    items=[key],
                    message=f"In {procedure.external_id}, {_steps(after)} never run by the AI agent: it "
                    f"hands over at step {handover}, which needs a person or a system.",
                )
            )
        if skipped:
            found.append(
                ConfigFinding(
                    severity="overlap",
                    code="procedure.redundant_steps",
                    items=[key],
                    message=f"In {procedure.external_id}, {_steps(skipped)} skipped: earlier steps "
                    "already ask for all of their data.",
                )
            )
        asked = {r for s in procedure.steps for r in s.requires}
        declared = set(procedure.required_data)
        if asked - declared or declared - asked:
            parts = []
            if asked - declared:
                parts.append(f"steps ask for {', '.join(sorted(asked - declared))} without declaring it")
            if declared - asked:
                parts.append(f"it declares {', '.join(sorted(declared - asked))} that no step asks for")
            found.append(
                ConfigFinding(
                    severity="warning",
                    code="procedure.undeclared_data",
                    items=[key],
                    message=f"{procedure.external_id}: {'; '.join(parts)}.",
                )
            )
        unknown = sorted(r for r in asked | declared if r not in EXTRACTORS)
        if unknown:
            found.append(
                ConfigFinding(
                    severity="warning",
                    code="procedure.no_extractor",
                    items=[key],
                    message=f"{procedure.external_id} needs {', '.join(unknown)}, which the agent only "
                    "recognises when the customer writes it as 'name: value': expect it to ask again.",
                )
            )
    found.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return found


def _steps(numbers: list[int]) -> str:
    """ "step 3 is" / "steps 3 and 4 are"."""
    if len(numbers) == 1:
        return f"step {numbers[0]} is"
    return f"steps {', '.join(map(str, numbers[:-1]))} and {numbers[-1]} are"
