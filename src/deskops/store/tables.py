"""Table definitions. ``workspace_id`` leads every primary key, unique key and index.

That keeps each tenant's rows together and makes the schema shardable by
workspace (Citus-style) without cross-tenant joins.
"""

from __future__ import annotations

import sqlalchemy as sa

from deskops.store.types import JSONColumn, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


def _workspace_fk() -> sa.Column[int]:
    return sa.Column(
        "workspace_id", sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )


workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(63), nullable=False, unique=True),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

members = sa.Table(
    "members",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.UniqueConstraint("workspace_id", "email"),
    sa.CheckConstraint("role in ('viewer', 'editor', 'admin')", name="role"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("member_id", sa.Integer, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.ForeignKeyConstraint(
        ["workspace_id", "member_id"], ["members.workspace_id", "members.id"], ondelete="CASCADE"
    ),
)

customers = sa.Table(
    "customers",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("name", sa.String(200)),
    sa.Column("email", sa.String(320)),
    sa.Column("plan", sa.String(64)),
    sa.Column("region", sa.String(64)),
    sa.Column("company_size", sa.String(32)),
    sa.Column("signup_date", sa.Date),
    sa.Column("attributes", JSONColumn, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.UniqueConstraint("workspace_id", "external_id"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("customer_id", sa.Integer),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("first_response_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("topic", sa.String(100)),
    sa.Column("product_area", sa.String(64)),
    sa.Column("language", sa.String(16)),
    sa.Column("ai_involved", sa.Boolean, nullable=False),
    sa.Column("outcome", sa.String(32)),
    sa.Column("escalated_at", UTCDateTime),
    sa.Column("first_response_seconds", sa.Float),
    sa.Column("handling_seconds", sa.Float),
    sa.Column("csat", sa.SmallInteger),
    sa.Column("reopen_count", sa.Integer, nullable=False),
    sa.Column("team", sa.String(64)),
    sa.Column("tags", JSONColumn, nullable=False),
    sa.Column("attributes", JSONColumn, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.UniqueConstraint("workspace_id", "external_id"),
    sa.ForeignKeyConstraint(
        ["workspace_id", "customer_id"], ["customers.workspace_id", "customers.id"], ondelete="SET NULL"
    ),
    sa.CheckConstraint(
        "outcome is null or outcome in "
        "('ai_resolved', 'human_resolved', 'escalated_unresolved', 'abandoned')",
        name="outcome",
    ),
    sa.CheckConstraint("csat is null or (csat between 1 and 5)", name="csat"),
    sa.Index(None, "workspace_id", "created_at"),
    sa.Index(None, "workspace_id", "customer_id"),
)

messages = sa.Table(
    "messages",
    metadata,
    _workspace_fk(),
    sa.Column("conversation_id", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("author_kind", sa.String(16), nullable=False),
    sa.Column("author_name", sa.String(200)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("cited_article_ids", JSONColumn, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "conversation_id", "seq"),
    sa.ForeignKeyConstraint(
        ["workspace_id", "conversation_id"],
        ["conversations.workspace_id", "conversations.id"],
        ondelete="CASCADE",
    ),
    sa.CheckConstraint(
        "author_kind in ('customer', 'ai_agent', 'human_agent', 'system')", name="author_kind"
    ),
)


def _provenance_columns() -> list[sa.Column[object]]:
    """Who wrote a version, and through which proposal (None for imports and the simulator)."""
    return [sa.Column("changed_by", sa.String(300)), sa.Column("proposal_id", sa.Integer)]


def _content_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("product_area", sa.String(64)),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("author", sa.String(200)),
    ]


articles = sa.Table(
    "articles",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    *_content_columns(),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.UniqueConstraint("workspace_id", "external_id"),
    sa.CheckConstraint("state in ('draft', 'published', 'archived')", name="state"),
)

article_versions = sa.Table(
    "article_versions",
    metadata,
    _workspace_fk(),
    sa.Column("article_id", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    *_content_columns(),
    sa.Column("created_at", UTCDateTime, nullable=False),
    *_provenance_columns(),
    sa.PrimaryKeyConstraint("workspace_id", "article_id", "version"),
    sa.ForeignKeyConstraint(
        ["workspace_id", "article_id"], ["articles.workspace_id", "articles.id"], ondelete="CASCADE"
    ),
)


def _rule_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("condition", JSONColumn, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    ]


guidance_rules = sa.Table(
    "guidance_rules",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    *_rule_columns(),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.UniqueConstraint("workspace_id", "external_id"),
)

guidance_rule_versions = sa.Table(
    "guidance_rule_versions",
    metadata,
    _workspace_fk(),
    sa.Column("rule_id", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    *_rule_columns(),
    sa.Column("created_at", UTCDateTime, nullable=False),
    *_provenance_columns(),
    sa.PrimaryKeyConstraint("workspace_id", "rule_id", "version"),
    sa.ForeignKeyConstraint(
        ["workspace_id", "rule_id"], ["guidance_rules.workspace_id", "guidance_rules.id"], ondelete="CASCADE"
    ),
)


def _procedure_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("trigger_topics", JSONColumn, nullable=False),
        sa.Column("steps", JSONColumn, nullable=False),
        sa.Column("required_data", JSONColumn, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    ]


procedures = sa.Table(
    "procedures",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    *_procedure_columns(),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.UniqueConstraint("workspace_id", "external_id"),
)

procedure_versions = sa.Table(
    "procedure_versions",
    metadata,
    _workspace_fk(),
    sa.Column("procedure_id", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    *_procedure_columns(),
    sa.Column("created_at", UTCDateTime, nullable=False),
    *_provenance_columns(),
    sa.PrimaryKeyConstraint("workspace_id", "procedure_id", "version"),
    sa.ForeignKeyConstraint(
        ["workspace_id", "procedure_id"], ["procedures.workspace_id", "procedures.id"], ondelete="CASCADE"
    ),
)

agent_settings_versions = sa.Table(
    "agent_settings_versions",
    metadata,
    _workspace_fk(),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("settings", JSONColumn, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    *_provenance_columns(),
    sa.PrimaryKeyConstraint("workspace_id", "version"),
)

events = sa.Table(
    "events",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("customer_id", sa.Integer),
    sa.Column("properties", JSONColumn, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.ForeignKeyConstraint(
        ["workspace_id", "customer_id"], ["customers.workspace_id", "customers.id"], ondelete="SET NULL"
    ),
    sa.Index(None, "workspace_id", "name", "occurred_at"),
)

cohorts = sa.Table(
    "cohorts",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("definition", JSONColumn, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.UniqueConstraint("workspace_id", "name"),
)

data_revisions = sa.Table(
    "data_revisions",
    metadata,
    _workspace_fk(),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("rewrite_revision", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id"),
)
"""Bumped by every write that changes what analytics reads (conversations, customers).

``rewrite_revision`` moves only when existing rows changed; when it has not moved since
a snapshot was taken, the snapshot is brought up to date by reading the new rows alone.
"""

decision_traces = sa.Table(
    "decision_traces",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("conversation_external_id", sa.String(200)),
    sa.Column("message_index", sa.Integer),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("decision", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("trace", JSONColumn, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.Index(None, "workspace_id", "conversation_external_id", "message_index"),
    sa.Index(None, "workspace_id", "created_at"),
)
"""One row per front-line reply: the decision and the whole trace (redacted) as JSON."""

conversation_changes = sa.Table(
    "conversation_changes",
    metadata,
    _workspace_fk(),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("erased", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "revision", "external_id"),
)
"""Conversations whose text changed or was erased after they were written, by data revision: what a
search index (a cache of the text) must re-read or drop."""

proposals = sa.Table(
    "proposals",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("thread_id", sa.Integer, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    sa.Column("evidence", JSONColumn, nullable=False),
    sa.Column("author", JSONColumn, nullable=False),
    sa.Column("change_set", JSONColumn, nullable=False),
    sa.Column("base_versions", JSONColumn, nullable=False),
    sa.Column("verdict", sa.String(8)),
    sa.Column("auto_approved", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("decided_by", sa.String(300)),
    sa.Column("decision_reason", sa.Text),
    sa.Column("supersedes", sa.Integer),
    sa.Column("superseded_by", sa.Integer),
    sa.Column("applied_versions", JSONColumn),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.Index(None, "workspace_id", "state"),
    sa.Index(None, "workspace_id", "thread_id"),
)
"""Proposed changes, one row per revision; a refinement is a new row in the same thread."""

reviews = sa.Table(
    "reviews",
    metadata,
    _workspace_fk(),
    sa.Column("proposal_id", sa.Integer, nullable=False),
    sa.Column("reviewer", sa.String(64), nullable=False),
    sa.Column("verdict", sa.String(8), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "proposal_id", "reviewer"),
)

findings = sa.Table(
    "findings",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("proposal_id", sa.Integer, nullable=False),
    sa.Column("reviewer", sa.String(64), nullable=False),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("verdict", sa.String(8), nullable=False),
    sa.Column("item", sa.String(250)),
    sa.Column("span", JSONColumn),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("evidence", JSONColumn, nullable=False),
    sa.Column("related", JSONColumn, nullable=False),
    sa.Column("downgraded", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.Index(None, "workspace_id", "proposal_id"),
)

finding_feedback = sa.Table(
    "finding_feedback",
    metadata,
    _workspace_fk(),
    sa.Column("finding_id", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(300), nullable=False),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "finding_id", "actor"),
)
"""A member's mark on a finding: helpful or not. One mark per member and finding (the latest)."""

policy_versions = sa.Table(
    "policy_versions",
    metadata,
    _workspace_fk(),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", JSONColumn, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    *_provenance_columns(),
    sa.PrimaryKeyConstraint("workspace_id", "version"),
)
"""The workspace's review policy, every version kept (changed only through proposals)."""

audit_events = sa.Table(
    "audit_events",
    metadata,
    _workspace_fk(),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(300), nullable=False),
    sa.Column("proposal_id", sa.Integer),
    sa.Column("items", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "seq"),
    sa.Index(None, "workspace_id", "kind"),
    sa.Index(None, "workspace_id", "created_at"),
)
"""The tamper-evident log: ``event`` is the canonical JSON that was hashed, the other columns index it
(``items`` holds the item keys it concerns, space-separated and space-padded, for filtering)."""

operator_runs = sa.Table(
    "operator_runs",
    metadata,
    _workspace_fk(),
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("actor", sa.String(300), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("session", sa.String(64), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("skill", sa.String(100)),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("proposals", JSONColumn, nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("requests", sa.Integer),
    sa.Column("input_tokens", sa.Integer),
    sa.Column("output_tokens", sa.Integer),
    sa.Column("cost_usd", sa.Float),
    sa.Column("trace_id", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "id"),
    sa.Index(None, "workspace_id", "started_at"),
    sa.CheckConstraint("outcome in ('answered', 'clarified', 'abstained', 'failed')", name="outcome"),
)
"""One row per Operator turn: the question (redacted), who asked, what answered, how it ended, its cost."""

operator_run_tools = sa.Table(
    "operator_run_tools",
    metadata,
    _workspace_fk(),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("tool", sa.String(100), nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.PrimaryKeyConstraint("workspace_id", "run_id", "position"),
    sa.Index(None, "workspace_id", "tool"),
)
"""Every tool call of a run, in order: the per-tool failure rates and latencies come from here."""

TENANT_TABLES = tuple(t for t in metadata.sorted_tables if "workspace_id" in t.c)
