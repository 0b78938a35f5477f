"""consumed offsets: what PostgreSQL holds of each Kafka partition

The persist and alert-check tasks record the offset ranges they did in the same transaction as
their work (consumed_ranges); the bridge folds contiguous ranges into consumed_offsets, commits
only those to Kafka and starts a partition there, so a task the Celery broker loses is replayed.
Rows are per topic id: a topic made again under its name (an in-memory broker's restart) restarts
its offsets and must not inherit the old topic's record.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consumed_offsets",
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("topic_id", sa.String(36), nullable=False),
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("topic", "topic_id", "partition"),
    )
    op.create_table(
        "consumed_ranges",
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("topic_id", sa.String(36), nullable=False),
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_offset", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("next_offset > first_offset", name="ck_consumed_ranges_nonempty"),
        sa.PrimaryKeyConstraint("stage", "topic", "topic_id", "partition", "first_offset"),
    )


def downgrade() -> None:
    op.drop_table("consumed_ranges")
    op.drop_table("consumed_offsets")
