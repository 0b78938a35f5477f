"""alerts on the whole portfolio: its total value above or below (rule total), a daily summary (rule daily)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# As 0019 left them.
OLD_RULE_FIELDS = (
    "(rule IN ('above', 'below') AND direction = rule AND threshold IS NOT NULL"
    " AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'change' AND direction IN ('up', 'down', 'either') AND change_percent > 0 AND window_seconds > 0"
    " AND threshold IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'cross' AND direction IN ('above', 'below') AND indicator IN ('sma', 'ema')"
    " AND period BETWEEN 2 AND 500 AND timeframe IN ('1m', '1h', '1d') AND threshold IS NULL AND level IS NULL)"
    " OR (rule = 'rsi' AND direction IN ('above', 'below') AND indicator = 'rsi' AND period BETWEEN 2 AND 500"
    " AND timeframe IN ('1m', '1h', '1d') AND level > 0 AND level < 100 AND threshold IS NULL)"
    " OR (rule = 'value' AND direction IN ('above', 'below') AND threshold IS NOT NULL"
    " AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'pnl' AND direction IN ('above', 'below') AND change_percent IS NOT NULL AND window_seconds IS NULL"
    " AND threshold IS NULL AND indicator IS NULL AND level IS NULL)"
)
RULE_FIELDS = (
    OLD_RULE_FIELDS + " OR (rule = 'total' AND direction IN ('above', 'below') AND threshold IS NOT NULL"
    " AND currency IS NOT NULL AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'daily' AND direction = 'daily' AND daily_at IS NOT NULL AND timezone IS NOT NULL"
    " AND frequency = 'every_time' AND threshold IS NULL AND change_percent IS NULL AND indicator IS NULL"
    " AND level IS NULL)"
)
PORTFOLIO_FIELDS = (
    "(rule IN ('total', 'daily')) = (symbol IS NULL)"
    " AND (rule = 'daily') = (daily_at IS NOT NULL AND timezone IS NOT NULL)"
    " AND (rule = 'total') = (currency IS NOT NULL)"
)
OLD_IDENTITY = [
    "symbol", "rule", "direction", "threshold", "change_percent", "window_seconds", "indicator", "period",
    "timeframe", "level", "frequency", "cooldown_seconds",
]  # fmt: skip
OLD_RULES = "rule IN ('above', 'below', 'change', 'cross', 'rsi', 'value', 'pnl')"


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
    op.add_column("alerts", sa.Column("daily_at", sa.Time(), nullable=True))
    op.add_column("alerts", sa.Column("timezone", sa.String(length=64), nullable=True))
    op.add_column("alerts", sa.Column("currency", sa.String(length=3), nullable=True))
    op.add_column("alert_events", sa.Column("detail", sa.Text(), nullable=True))
    op.alter_column("alerts", "symbol", existing_type=sa.String(length=32), nullable=True)
    op.drop_constraint("ck_alerts_rule_fields", "alerts", type_="check")
    op.drop_constraint("ck_alerts_rule", "alerts", type_="check")
    op.create_check_constraint(
        "ck_alerts_rule",
        "alerts",
        "rule IN ('above', 'below', 'change', 'cross', 'rsi', 'value', 'pnl', 'total', 'daily')",
    )
    op.create_check_constraint("ck_alerts_rule_fields", "alerts", RULE_FIELDS)
    op.create_check_constraint("ck_alerts_portfolio_fields", "alerts", PORTFOLIO_FIELDS)
    _identity([*OLD_IDENTITY, "daily_at", "timezone", "currency"])


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE rule IN ('total', 'daily')")
    _identity(OLD_IDENTITY)
    op.drop_constraint("ck_alerts_portfolio_fields", "alerts", type_="check")
    op.drop_constraint("ck_alerts_rule_fields", "alerts", type_="check")
    op.drop_constraint("ck_alerts_rule", "alerts", type_="check")
    op.create_check_constraint("ck_alerts_rule", "alerts", OLD_RULES)
    op.create_check_constraint("ck_alerts_rule_fields", "alerts", OLD_RULE_FIELDS)
    op.alter_column("alerts", "symbol", existing_type=sa.String(length=32), nullable=False)
    op.drop_column("alert_events", "detail")
    op.drop_column("alerts", "currency")
    op.drop_column("alerts", "timezone")
    op.drop_column("alerts", "daily_at")
