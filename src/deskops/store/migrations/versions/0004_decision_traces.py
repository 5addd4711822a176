"""decision traces

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 11:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_traces",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_external_id", sa.String(length=200), nullable=True),
        sa.Column("message_index", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column(
            "trace",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_decision_traces_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_decision_traces")),
    )
    op.create_index(
        op.f("ix_decision_traces_workspace_id_conversation_external_id_message_index"),
        "decision_traces",
        ["workspace_id", "conversation_external_id", "message_index"],
    )
    op.create_index(
        op.f("ix_decision_traces_workspace_id_created_at"), "decision_traces", ["workspace_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("decision_traces")
