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
        configuration_audit,
        content,
        content_audit,
        conversations,
        coverage,
        digest,
        investigation,
        proposals,
        segments,
        service_levels,
        topics,
        workspace,
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
        segments.metric_breakdown,
        segments.csat_drivers,
        segments.detect_anomalies,
        segments.list_cohorts,
        segments.cohort_report,
        topics.topic_trends,
        topics.emerging_topics,
        service_levels.response_times,
        service_levels.team_figures,
        service_levels.agent_figures,
        content_audit.stale_articles,
        content_audit.duplicate_articles,
        content_audit.content_contradictions,
        content_audit.affected_by_fact,
        content_audit.compare_article_versions,
        coverage.topic_coverage,
        coverage.content_gaps,
        coverage.article_scorecard,
        digest.summarise_topic,
        digest.handover_reasons,
        configuration_audit.read_guidance_rule,
        configuration_audit.read_procedure,
        configuration_audit.audit_guidance,
        configuration_audit.audit_procedures,
        configuration_audit.replay_change_set,
        configuration_audit.settings_history,
        proposals.review_queue,
        workspace.data_sources,
        workspace.list_importers,
        workspace.metric_availability,
        workspace.audit_trail,
    ):
        register(ToolSpec(function))
    for proposing in (
        changes.propose_change,
        proposals.propose_article_edit,
        proposals.propose_new_article,
        proposals.propose_archive,
        proposals.propose_guidance_rule,
        proposals.propose_procedure,
        proposals.propose_settings,
    ):
        register(ToolSpec(proposing, role=Role.editor, writes=True))
    for deciding in (proposals.accept_proposal, proposals.reject_proposal):
        register(ToolSpec(deciding, role=Role.editor, writes=True, approval=True))
