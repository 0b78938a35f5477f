"""symbols, ticks and alerts

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PRICE = sa.Numeric(precision=24, scale=10)


def upgrade() -> None:
    op.create_table(
        "symbols",
        sa.Column("symbol", sa.String(length=32), primary_key=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_table(
        "ticks",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("symbol", sa.String(length=32), sa.ForeignKey("symbols.symbol"), nullable=False),
        sa.Column("price", PRICE, nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        # Also the index for "last N points of a symbol" and time-range queries.
        sa.UniqueConstraint("symbol", "observed_at", "source", name="uq_ticks_symbol_observed_source"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("symbol", sa.String(length=32), sa.ForeignKey("symbols.symbol"), nullable=False),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("threshold", PRICE, nullable=False),
        sa.Column("status", sa.String(length=9), server_default=sa.text("'active'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("triggered_price", PRICE, nullable=True),
        sa.CheckConstraint("direction IN ('above', 'below')", name="ck_alerts_direction"),
        sa.CheckConstraint("status IN ('active', 'triggered', 'cancelled')", name="ck_alerts_status"),
        sa.CheckConstraint("threshold > 0", name="ck_alerts_threshold_positive"),
    )
    op.create_index(
        "ix_alerts_active_symbol",
        "alerts",
        ["symbol", "threshold"],
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_active_symbol", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("ticks")
    op.drop_table("symbols")
