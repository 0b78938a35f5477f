"""alerts on positions: a position's value (rule value) or its P&L in % (rule pnl) above or below

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# As 0017 left them.
OLD_RULE_FIELDS = (
    "(rule IN ('above', 'below') AND direction = rule AND threshold IS NOT NULL"
    " AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'change' AND direction IN ('up', 'down', 'either') AND change_percent > 0 AND window_seconds > 0"
    " AND threshold IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'cross' AND direction IN ('above', 'below') AND indicator IN ('sma', 'ema')"
    " AND period BETWEEN 2 AND 500 AND timeframe IN ('1m', '1h', '1d') AND threshold IS NULL AND level IS NULL)"
    " OR (rule = 'rsi' AND direction IN ('above', 'below') AND indicator = 'rsi' AND period BETWEEN 2 AND 500"
    " AND timeframe IN ('1m', '1h', '1d') AND level > 0 AND level < 100 AND threshold IS NULL)"
)

RULE_FIELDS = (
    OLD_RULE_FIELDS + " OR (rule = 'value' AND direction IN ('above', 'below') AND threshold IS NOT NULL"
    " AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'pnl' AND direction IN ('above', 'below') AND change_percent IS NOT NULL AND window_seconds IS NULL"
    " AND threshold IS NULL AND indicator IS NULL AND level IS NULL)"
)


def upgrade() -> None:
    op.drop_constraint("ck_alerts_rule_fields", "alerts", type_="check")
    op.drop_constraint("ck_alerts_rule", "alerts", type_="check")
    op.create_check_constraint(
        "ck_alerts_rule", "alerts", "rule IN ('above', 'below', 'change', 'cross', 'rsi', 'value', 'pnl')"
    )
    op.create_check_constraint("ck_alerts_rule_fields", "alerts", RULE_FIELDS)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE rule IN ('value', 'pnl')")
    op.drop_constraint("ck_alerts_rule_fields", "alerts", type_="check")
    op.drop_constraint("ck_alerts_rule", "alerts", type_="check")
    op.create_check_constraint("ck_alerts_rule", "alerts", "rule IN ('above', 'below', 'change', 'cross', 'rsi')")
    op.create_check_constraint("ck_alerts_rule_fields", "alerts", OLD_RULE_FIELDS)
