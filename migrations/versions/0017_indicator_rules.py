"""indicator rules: the price crossing SMA/EMA(n), RSI(n) reaching a level, on 1m/1h/1d candles

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

RULE_FIELDS = (
    "(rule IN ('above', 'below') AND direction = rule AND threshold IS NOT NULL"
    " AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'change' AND direction IN ('up', 'down', 'either') AND change_percent > 0 AND window_seconds > 0"
    " AND threshold IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'cross' AND direction IN ('above', 'below') AND indicator IN ('sma', 'ema')"
    " AND period BETWEEN 2 AND 500 AND timeframe IN ('1m', '1h', '1d') AND threshold IS NULL AND level IS NULL)"
    " OR (rule = 'rsi' AND direction IN ('above', 'below') AND indicator = 'rsi' AND period BETWEEN 2 AND 500"
    " AND timeframe IN ('1m', '1h', '1d') AND level > 0 AND level < 100 AND threshold IS NULL)"
)
OLD_RULE_FIELDS = (
    "(rule IN ('above', 'below') AND direction = rule AND threshold IS NOT NULL)"
    " OR (rule = 'change' AND direction IN ('up', 'down', 'either') AND change_percent > 0 AND window_seconds > 0)"
)
IDENTITY = ["symbol", "rule", "direction", "threshold", "change_percent", "window_seconds"]
TAIL = ["frequency", "cooldown_seconds"]
INDICATOR = ["indicator", "period", "timeframe", "level"]


def _identity(columns: list[str]) -> None:
    op.drop_index("uq_alerts_active_rule", table_name="alerts")
    op.create_index(
        "uq_alerts_active_rule",
        "alerts",
        columns,
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        postgresql_nulls_not_distinct=True,
    )


def upgrade() -> None:
    op.add_column("alerts", sa.Column("indicator", sa.String(length=3), nullable=True))
    op.add_column("alerts", sa.Column("period", sa.SmallInteger(), nullable=True))
    op.add_column("alerts", sa.Column("timeframe", sa.String(length=2), nullable=True))
    op.add_column("alerts", sa.Column("level", sa.Numeric(7, 4), nullable=True))
    op.add_column(
        "symbols",
        sa.Column("alert_indicators", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    )
    op.drop_constraint("ck_alerts_rule", "alerts", type_="check")
    op.drop_constraint("ck_alerts_rule_fields", "alerts", type_="check")
    op.create_check_constraint("ck_alerts_rule", "alerts", "rule IN ('above', 'below', 'change', 'cross', 'rsi')")
    op.create_check_constraint("ck_alerts_rule_fields", "alerts", RULE_FIELDS)
    _identity(IDENTITY + INDICATOR + TAIL)
    op.create_index(
        "ix_alerts_active_indicator",
        "alerts",
        ["symbol", "timeframe", "indicator", "period", "direction", "armed", "level"],
        postgresql_where=sa.text("status = 'active' AND rule IN ('cross', 'rsi')"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE rule IN ('cross', 'rsi')")
    op.drop_index("ix_alerts_active_indicator", table_name="alerts")
    _identity(IDENTITY + TAIL)
    op.drop_constraint("ck_alerts_rule_fields", "alerts", type_="check")
    op.drop_constraint("ck_alerts_rule", "alerts", type_="check")
    op.create_check_constraint("ck_alerts_rule", "alerts", "rule IN ('above', 'below', 'change')")
    op.create_check_constraint("ck_alerts_rule_fields", "alerts", OLD_RULE_FIELDS)
    op.drop_column("symbols", "alert_indicators")
    for column in INDICATOR:
        op.drop_column("alerts", column)
