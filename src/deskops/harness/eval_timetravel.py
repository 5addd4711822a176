"""Time-travel evaluation: simulate workspaces with injected incidents, then ask the Operator about
each incident's metric over its window, as a support lead would, and grade the answer.

The truth file is read only here, by the grader; the Operator sees the workspace and the question.
Grades follow incident.io's scale:

- **100** bullseye: the right segment and the right root-cause item (the channel, the topic that
  surged, the guidance rule, the region whose replies slowed, the stale article), with the right
  proposal when a fix is due (a rule still misconfigured, an article still stating the old fact);
- **65** one hop short: the right segment and the right kind of cause, but not the item or the fix;
- **35** the right area (segment) with a wrong or no diagnosis;
- **0** a wrong segment, or "no significant change".

Quiet periods (no incident in the window nor in the period it is compared with) are asked about
too; any root cause claimed there is a false alarm. Latency is per question, after one untimed
question per workspace (which loads the router's examples).

Seeds split like the other evaluations: the investigate skill's thresholds were chosen looking at
workspaces of seeds 1-7 (``dev``); ``test`` seeds start at 101 and are what the docs report.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from deskops.bootstrap import build
from deskops.domain.changes import Actor, ActorKind
from deskops.domain.models import Role
from deskops.search.dense import Embedder
from deskops.simulate.truth import GroundTruth, GuidanceRuleCause, IncidentTruth, load_truth
from deskops.simulate.workspace import SimulationConfig, simulate_workspace

SPLITS = {"dev": 1, "test": 101}
"""First seed of each split."""
EDITOR = Actor(kind=ActorKind.member, name="eval@deskops.test", role=Role.editor)
METRIC_WORDS = {
    "conversation_volume": ("conversation volume", "the number of conversations"),
    "escalation_rate": ("escalations", "the escalation rate", "hand-overs"),
    "csat_average": ("CSAT", "customer satisfaction"),
}
TEMPLATES = (
    "why did {metric} {move} from {start} to {end}?",
    "what caused the {change} in {metric} between {start} and {end}",
    "{metric} went {direction} from {start} to {end} - why?",
    "explain the {change} in {metric} from {start} to {end}",
)
WORDING = {
    "up": {"move": "rise", "change": "increase", "direction": "up"},
    "down": {"move": "fall", "change": "drop", "direction": "down"},
    "either": {"move": "change", "change": "change", "direction": "up or down"},
}
CAUSE_WORDS = {
    "channel_outage": "outage",
    "launch_surge": "wave of new questions",
    "guidance_misconfiguration": "Guidance rule",
    "csat_drop": "first replies",
    "stale_article": "out of date",
}
"""What a kept hypothesis of each kind of cause says (the kind without the item)."""
TARGETS = {"mean_score": 90, "false_alarm_rate_at_most": 0.05}


def run(
    *,
    split: str,
    seeds: int,
    conversations: int,
    days: int,
    embedder: Embedder | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Simulate ``seeds`` workspaces of the split and grade every incident and quiet-period answer."""
    first = SPLITS[split]
    graded: list[dict[str, Any]] = []
    quiet: list[dict[str, Any]] = []
    timings: list[float] = []
    for seed in range(first, first + seeds):
        with tempfile.TemporaryDirectory(prefix="deskops-timetravel-") as folder:
            root = Path(folder)
            services = build(database_url=f"sqlite:///{root / 'tt.db'}", data_dir=root, embedder=embedder)
            try:
                with services.uow() as uow:
                    simulate_workspace(
                        uow=uow,
                        config=SimulationConfig(seed=seed, conversations=conversations, days=days),
                        truth_path=root / "truth.json",
                    )
                    uow.commit()
                truth = load_truth(root / "truth.json")

                operator = services.operator
                operator.ask(workspace="demo", question="how are we doing?", actor=EDITOR)  # warm, untimed

                def ask(question: str, operator: Any = operator) -> Any:
                    began = time.perf_counter()
                    answer = operator.ask(workspace="demo", question=question, actor=EDITOR)
                    timings.append(time.perf_counter() - began)
                    return answer

                for n, incident in enumerate(truth.incidents):
                    window = (incident.first_day, incident.last_day)
                    question = _question(incident.metric, incident.direction, window, seed + n)
                    answer = ask(question)
                    graded.append({"seed": seed, **grade(incident, answer), "question": question})
                    log(f"seed {seed} {incident.id}: {graded[-1]['score']}")
                for n, (start, end) in enumerate(quiet_windows(truth)):
                    for metric in METRIC_WORDS:
                        question = _question(metric, "either", (start, end), seed + n)
                        answer = ask(question)
                        kept = _kept(answer)
                        quiet.append(
                            {
                                "seed": seed,
                                "question": question,
                                "false_alarm": bool(kept[1:]),
                                "segment_claimed": bool(kept),
                                "skill": answer.skill,
                            }
                        )
            finally:
                services.close()
    by_kind: dict[str, list[int]] = defaultdict(list)
    for row in graded:
        by_kind[row["kind"]].append(row["score"])
    scores = [row["score"] for row in graded]
    alarms = sum(row["false_alarm"] for row in quiet)
    timings.sort()
    return {
        "evaluation": "timetravel",
        "split": split,
        "seeds": list(range(first, first + seeds)),
        "conversations": conversations,
        "days": days,
        "incidents": len(graded),
        "mean_score": round(statistics.fmean(scores), 1) if scores else None,
        "by_kind": {
            kind: {
                "mean": round(statistics.fmean(values), 1),
                "bullseye": sum(v == 100 for v in values),
                "n": len(values),
            }
            for kind, values in sorted(by_kind.items())
        },
        "routed_to_investigate": round(
            sum(r["skill"] == "investigate" for r in graded + quiet) / max(1, len(graded) + len(quiet)), 3
        ),
        "quiet_questions": len(quiet),
        "false_alarms": alarms,
        "false_alarm_rate": round(alarms / len(quiet), 3) if quiet else None,
        "segment_claimed_in_quiet": sum(row["segment_claimed"] for row in quiet),
        "latency_ms": {
            "p50": round(timings[len(timings) // 2] * 1000, 1) if timings else None,
            "p95": round(timings[min(len(timings) - 1, int(len(timings) * 0.95))] * 1000, 1)
            if timings
            else None,
        },
        "targets": TARGETS,
        "misses": [row for row in graded if row["score"] < 100],
        "misrouted": [row["question"] for row in graded + quiet if row["skill"] != "investigate"],
    }


QUIET_LENGTHS = (7, 14)


def quiet_windows(truth: GroundTruth) -> list[tuple[date, date]]:
    """The truth's quiet periods, and every week and fortnight stepped through the data, whose window and
    baseline (the period before, of the same length) are clear of every incident (with a day's margin)."""
    tz = ZoneInfo(truth.period.time_zone)
    incidents = [(i.first_day, i.last_day) for i in truth.incidents]
    first, last = _window(truth.period.start, truth.period.end, tz)
    candidates = [_window(p.start, p.end, tz) for p in truth.quiet_periods]
    for length in QUIET_LENGTHS:
        start = first + timedelta(days=length + 1)
        while start + timedelta(days=length - 1) <= last:
            candidates.append((start, start + timedelta(days=length - 1)))
            start += timedelta(days=length)
    clear = []
    for start, end in candidates:
        before = start - (end - start) - timedelta(days=1)
        if before <= first or any(
            a - timedelta(days=1) <= end and before <= b + timedelta(days=1) for a, b in incidents
        ):
            continue
        if (start, end) not in clear:
            clear.append((start, end))
    return clear


def grade(incident: IncidentTruth, answer: Any) -> dict[str, Any]:
    """Score one answer against its incident (see the module's scale)."""
    kind, cause = incident.kind, incident.root_cause
    kept = _kept(answer)
    where = kept[0] if kept else ""  # "The change is concentrated in plan=Starter, product_area=billing."
    segments = [incident.segment.filters()]
    if kind == "launch_surge":  # the launched topic inside the product area is a sharper segment
        segments.append({"topic": cause.item})
    segment_right = any(all(f"{k}={v}" in where for k, v in segment.items()) for segment in segments)
    item = cause.item  # the channel, launched topic, guidance rule, region or article
    causes = kept[1:]
    kind_right = any(CAUSE_WORDS[kind] in c for c in causes)
    item_right = any(CAUSE_WORDS[kind] in c and item in c for c in causes)
    still_wrong = isinstance(cause, GuidanceRuleCause) and cause.fixed_version is None
    fix_due = still_wrong or kind == "stale_article"
    fix_right = not fix_due or _proposed(answer, item)
    if not segment_right:
        score = 0
    elif item_right and fix_right:
        score = 100
    elif kind_right:
        score = 65
    else:
        score = 35
    return {
        "incident": incident.id,
        "kind": kind,
        "score": score,
        "segment_right": segment_right,
        "item_right": item_right,
        "fix_due": fix_due,
        "fix_right": fix_right,
        "skill": answer.skill,
        "answer": answer.answer[:600],
    }


def _proposed(answer: Any, item: str) -> bool:
    for block in answer.blocks:
        if block.type == "proposal" and any(d.external_id == item for d in block.report.diff.items):
            return True
    return False


def _kept(answer: Any) -> list[str]:
    return [h.statement for b in answer.blocks if b.type == "hypotheses" for h in b.hypotheses if h.kept]


def _window(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """The local days of a truth window (its end is exclusive; a part-day at the end is left out)."""
    first = start.astimezone(tz).date()
    return first, max(first, end.astimezone(tz).date() - timedelta(days=1))


def _question(metric: str, direction: str, window: tuple[date, date], variant: int) -> str:
    words = METRIC_WORDS[metric]
    template = TEMPLATES[variant % len(TEMPLATES)]
    return template.format(
        metric=words[variant % len(words)],
        start=window[0].isoformat(),
        end=window[1].isoformat(),
        **WORDING[direction],
    )
