"""daily candles, volume, and the history backfill's bookkeeping

- ``candles_1d``: daily candles (UTC days), so "All" reaches back decades; filled here from the
  hourly candles an install already has.
- ``volume`` on the candle tables (0 where the source gives none) and on ticks (null: none).
- ``backfills``: one row per symbol whose past is being loaded from its source; ``backfill_chunks``
  the chunks done, each written in the same transaction as its candles (app/market/backfill.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PRICE = sa.Numeric(24, 10)
VOLUME = sa.Numeric(30, 8)


def upgrade() -> None:
    for table in ("candles_1m", "candles_1h"):
        op.add_column(table, sa.Column("volume", VOLUME, nullable=False, server_default=sa.text("0")))
    op.create_table(
        "candles_1d",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", PRICE, nullable=False),
        sa.Column("high", PRICE, nullable=False),
        sa.Column("low", PRICE, nullable=False),
        sa.Column("close", PRICE, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticks", sa.Integer(), nullable=False),
        sa.Column("volume", VOLUME, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("symbol", "bucket"),
    )
    op.execute(
        """
        INSERT INTO candles_1d
        SELECT symbol, date_bin('1 day', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
               (array_agg(open ORDER BY first_at, open))[1], max(high), min(low),
               (array_agg(close ORDER BY last_at DESC, close DESC))[1],
               min(first_at), max(last_at), sum(ticks)::int, 0
        FROM candles_1h GROUP BY 1, 2
        """
    )
    op.add_column("ticks", sa.Column("volume", VOLUME, nullable=True))
    op.create_table(
        "backfills",
        sa.Column("symbol", sa.String(length=32), sa.ForeignKey("symbols.symbol"), primary_key=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_price", PRICE, nullable=True),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("rows", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("state", sa.String(length=8), nullable=False, server_default=sa.text("'queued'")),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('queued', 'running', 'resting', 'done', 'failed')", name="ck_backfills_state"),
    )
    op.create_table(
        "backfill_chunks",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("interval", sa.String(length=2), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("symbol", "interval", "start"),
    )


def downgrade() -> None:
    op.drop_table("backfill_chunks")
    op.drop_table("backfills")
    op.drop_column("ticks", "volume")
    op.drop_table("candles_1d")
    for table in ("candles_1m", "candles_1h"):
        op.drop_column(table, "volume")
