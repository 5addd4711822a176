"""The built-in Operator tools, registered exactly as a plugin's would be (entry point ``tools``)."""

from __future__ import annotations

from collections.abc import Callable

from deskops.domain.models import Role
from deskops.hookspecs import hookimpl
from deskops.operator.registry import ToolSpec


@hookimpl
def register_tools(register: Callable[[ToolSpec], None]) -> None:
    from deskops.operator.tools import (
        analytics,
        changes,
        configuration,
        content,
        conversations,
        investigation,
    )

    for function in (
        analytics.list_metrics,
        analytics.metric_series,
        analytics.compare_periods,
        analytics.top_movers,
        analytics.segment_shifts,
        analytics.workspace_summary,
        analytics.attribute_report,
        analytics.article_performance,
        content.search_help_center,
        content.read_article,
        content.list_articles,
        conversations.read_conversation,
        conversations.search_conversations,
        conversations.rerun_first_message,
        configuration.list_guidance,
        configuration.list_procedures,
        configuration.agent_settings,
        investigation.sample_conversations,
        investigation.rule_history,
        investigation.articles_for_topic,
        investigation.citation_feedback,
        changes.list_proposals,
        changes.show_proposal,
    ):
        register(ToolSpec(function))
    register(ToolSpec(changes.propose_change, role=Role.editor, writes=True))
