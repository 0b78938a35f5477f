"""symbols' kept past range: the lowest and highest price of a symbol's daily candles from a day
to the day before yesterday, which the alert check's gate reads instead of those candles; a
trigger clears it when a candle of a day before yesterday is written (a late tick, a backfill, a
rebuild) or the table is emptied

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"


def upgrade() -> None:
    for name in ("past_low", "past_high"):
        op.add_column("symbols", sa.Column(name, sa.Numeric(24, 10), nullable=True))
    for name in ("past_cut", "past_until"):
        op.add_column("symbols", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column("symbols", sa.Column("past_ticked", sa.Boolean(), nullable=True))
    op.execute(
        """
        CREATE FUNCTION clear_kept_past() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                UPDATE symbols SET past_until = NULL WHERE past_until IS NOT NULL;
            ELSE
                UPDATE symbols SET past_until = NULL WHERE symbol = NEW.symbol AND past_until IS NOT NULL;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER candles_1d_clear_kept_past AFTER INSERT OR UPDATE ON candles_1d FOR EACH ROW
        WHEN (NEW.bucket < date_bin('1 day', statement_timestamp(), {ORIGIN}) - interval '1 day')
        EXECUTE FUNCTION clear_kept_past()
        """
    )
    op.execute(
        "CREATE TRIGGER candles_1d_emptied_clear_kept_past AFTER TRUNCATE ON candles_1d"
        " FOR EACH STATEMENT EXECUTE FUNCTION clear_kept_past()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER candles_1d_emptied_clear_kept_past ON candles_1d")
    op.execute("DROP TRIGGER candles_1d_clear_kept_past ON candles_1d")
    op.execute("DROP FUNCTION clear_kept_past()")
    for name in ("past_low", "past_high", "past_cut", "past_until", "past_ticked"):
        op.drop_column("symbols", name)
