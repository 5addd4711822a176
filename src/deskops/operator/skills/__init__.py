"""The built-in Operator skills, registered exactly as a plugin's would be (entry point ``skills``)."""

from __future__ import annotations

from collections.abc import Callable

from deskops.hookspecs import hookimpl
from deskops.operator.registry import SkillSpec


@hookimpl
def register_skills(register: Callable[[SkillSpec], None]) -> None:
    from deskops.operator.skills import (
        automation,
        debug_conversation,
        digest,
        investigate,
        performance_report,
    )

    register(
        SkillSpec(
            performance_report.performance_report,
            examples=(
                "how did the AI agent do last week?",
                "how are we doing this month",
                "give me a performance report for October",
                "weekly support report",
                "how did support perform yesterday",
                "what were our numbers last month",
                "report on the chat channel for the last 30 days",
                "how is the bot performing",
                "KPIs for last week",
                "summary of support performance",
            ),
        )
    )
    register(
        SkillSpec(
            investigate.investigate,
            examples=(
                "why did escalations spike last week?",
                "why did CSAT drop in October",
                "what caused the drop in AI resolution",
                "why is conversation volume up this month",
                "investigate the rise in hand-overs",
                "why are more conversations escalated",
                "what happened to customer satisfaction last week",
                "why did volume fall yesterday",
                "explain the jump in escalation rate",
                "root cause of the escalation increase",
            ),
        )
    )
    register(
        SkillSpec(
            debug_conversation.debug_conversation,
            examples=(
                "why did the bot hand over conversation 4812?",
                "debug conversation sim-0004812",
                "what went wrong in conversation 19",
                "why did the AI agent escalate conversation c-77",
                "why didn't the bot answer conversation 120",
                "explain what the AI agent did in conversation 55",
                "root cause of conversation 3001",
                "why was conversation 900 escalated to a person",
            ),
        )
    )
    register(
        SkillSpec(
            automation.automation_opportunities,
            examples=(
                "what should we automate next?",
                "where is the biggest automation opportunity",
                "which topics should the AI agent handle next",
                "what could the bot resolve that it hands over today",
                "which topics cause the most hand-overs that we could automate",
                "next automation opportunity",
                "what procedure should we build next",
                "where are we losing the most conversations to humans",
            ),
        )
    )
    register(
        SkillSpec(
            digest.weekly_digest,
            examples=(
                "weekly digest",
                "give me the weekly operations digest",
                "what do I need to know this week",
                "monday morning summary of support operations",
                "weekly ops summary with what to fix",
                "what happened this week and what needs my attention",
                "send me the weekly review",
            ),
        )
    )
