"""transactions: buys and sells, from which positions are derived

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transactions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("symbol", sa.String(length=32), sa.ForeignKey("symbols.symbol"), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", sa.Numeric(30, 10), nullable=False),
        sa.Column("price", sa.Numeric(24, 10), nullable=False),
        sa.Column("fees", sa.Numeric(24, 10), server_default=sa.text("0"), nullable=False),
        sa.Column("traded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("side IN ('buy', 'sell')", name="ck_transactions_side"),
        sa.CheckConstraint("quantity > 0 AND price > 0 AND fees >= 0", name="ck_transactions_amounts"),
        sa.CheckConstraint("char_length(note) <= 200", name="ck_transactions_note_length"),
    )
    op.create_index("ix_transactions_symbol_traded", "transactions", ["symbol", "traded_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_transactions_symbol_traded", table_name="transactions")
    op.drop_table("transactions")
