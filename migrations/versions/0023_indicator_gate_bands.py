"""symbols' indicator bands: the levels of a symbol's cross and RSI alerts (replacing the list of
their indicators), and the prices between which no batch changes one of them, with the time
they hold for (the alert check's gate passes such batches by)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

LEVELS = """
    coalesce((
        SELECT jsonb_object_agg(k.key, jsonb_build_array(k.up, k.down)) FROM (
            SELECT a.timeframe || ':' || a.indicator || ':' || a.period AS key,
                   min(coalesce(a.level, 0)) FILTER (WHERE a.armed = (a.direction = 'above')) AS up,
                   max(coalesce(a.level, 0)) FILTER (WHERE a.armed <> (a.direction = 'above')) AS down
            FROM alerts a WHERE a.symbol = s.symbol AND a.status = 'active' AND a.rule IN ('cross', 'rsi')
            GROUP BY 1) k),
        '{}')"""


def upgrade() -> None:
    op.add_column(
        "symbols",
        sa.Column("indicator_levels", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False),
    )
    for name in ("indicator_up", "indicator_down"):
        op.add_column("symbols", sa.Column(name, sa.Numeric(), nullable=True))
    for name in ("indicator_from", "indicator_until"):
        op.add_column("symbols", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE symbols s SET indicator_levels = {LEVELS} WHERE s.alert_indicators <> '{{}}'")  # noqa: S608
    op.drop_column("symbols", "alert_indicators")


def downgrade() -> None:
    op.add_column(
        "symbols",
        sa.Column("alert_indicators", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    )
    op.execute(
        "UPDATE symbols SET alert_indicators = ARRAY(SELECT jsonb_object_keys(indicator_levels))"
        " WHERE indicator_levels <> '{}'"
    )
    for name in ("indicator_levels", "indicator_up", "indicator_down", "indicator_from", "indicator_until"):
        op.drop_column("symbols", name)
