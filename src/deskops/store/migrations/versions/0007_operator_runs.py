"""the Operator's run log: one row per turn, one per tool call

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "operator_runs",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("session", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("skill", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("proposals", JSON, nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "outcome in ('answered', 'clarified', 'abstained', 'failed')",
            name=op.f("ck_operator_runs_outcome"),
        ),
        _workspace_fk("operator_runs"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_operator_runs")),
    )
    op.create_index(
        op.f("ix_operator_runs_workspace_id_started_at"), "operator_runs", ["workspace_id", "started_at"]
    )
    op.create_table(
        "operator_run_tools",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=100), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _workspace_fk("operator_run_tools"),
        sa.PrimaryKeyConstraint("workspace_id", "run_id", "position", name=op.f("pk_operator_run_tools")),
    )
    op.create_index(
        op.f("ix_operator_run_tools_workspace_id_tool"), "operator_run_tools", ["workspace_id", "tool"]
    )


def downgrade() -> None:
    op.drop_table("operator_run_tools")
    op.drop_table("operator_runs")
