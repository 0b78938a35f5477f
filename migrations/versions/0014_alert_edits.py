"""alert edits: each change made to an alert, before and after

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_edits",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_edits_alert_id", "alert_edits", ["alert_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_edits_alert_id", table_name="alert_edits")
    op.drop_table("alert_edits")
