"""proposals, reviews, findings and feedback, the review policy, the audit log; who wrote each version

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
VERSION_TABLES = (
    "article_versions",
    "guidance_rule_versions",
    "procedure_versions",
    "agent_settings_versions",
)


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("author", JSON, nullable=False),
        sa.Column("change_set", JSON, nullable=False),
        sa.Column("base_versions", JSON, nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=True),
        sa.Column("auto_approved", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=300), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("applied_versions", JSON, nullable=True),
        _workspace_fk("proposals"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_proposals")),
    )
    op.create_index(op.f("ix_proposals_workspace_id_state"), "proposals", ["workspace_id", "state"])
    op.create_index(op.f("ix_proposals_workspace_id_thread_id"), "proposals", ["workspace_id", "thread_id"])
    op.create_table(
        "reviews",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _workspace_fk("reviews"),
        sa.PrimaryKeyConstraint("workspace_id", "proposal_id", "reviewer", name=op.f("pk_reviews")),
    )
    op.create_table(
        "findings",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("item", sa.String(length=250), nullable=True),
        sa.Column("span", JSON, nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("related", JSON, nullable=False),
        sa.Column("downgraded", sa.Boolean(), nullable=False),
        _workspace_fk("findings"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_findings")),
    )
    op.create_index(op.f("ix_findings_workspace_id_proposal_id"), "findings", ["workspace_id", "proposal_id"])
    op.create_table(
        "finding_feedback",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _workspace_fk("finding_feedback"),
        sa.PrimaryKeyConstraint("workspace_id", "finding_id", "actor", name=op.f("pk_finding_feedback")),
    )
    op.create_table(
        "policy_versions",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=300), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        _workspace_fk("policy_versions"),
        sa.PrimaryKeyConstraint("workspace_id", "version", name=op.f("pk_policy_versions")),
    )
    op.create_table(
        "audit_events",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        _workspace_fk("audit_events"),
        sa.PrimaryKeyConstraint("workspace_id", "seq", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_workspace_id_kind"), "audit_events", ["workspace_id", "kind"])
    op.create_index(
        op.f("ix_audit_events_workspace_id_created_at"), "audit_events", ["workspace_id", "created_at"]
    )
    for table in VERSION_TABLES:
        op.add_column(table, sa.Column("changed_by", sa.String(length=300), nullable=True))
        op.add_column(table, sa.Column("proposal_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in VERSION_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("proposal_id")
            batch.drop_column("changed_by")
    for table in ("audit_events", "policy_versions", "finding_feedback", "findings", "reviews", "proposals"):
        op.drop_table(table)
