"""one active alert per rule

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

IDENTITY = [
    "symbol",
    "rule",
    "direction",
    "threshold",
    "change_percent",
    "window_seconds",
    "frequency",
    "cooldown_seconds",
]


def upgrade() -> None:
    # Duplicates made before this version: the newest stays active, the older copies are cancelled.
    op.execute(
        """
        UPDATE alerts SET status = 'cancelled'
        WHERE status = 'active' AND id NOT IN (
            SELECT max(id) FROM alerts WHERE status = 'active'
            GROUP BY symbol, rule, direction, threshold, change_percent, window_seconds, frequency, cooldown_seconds)
        """
    )
    op.create_index(
        "uq_alerts_active_rule",
        "alerts",
        IDENTITY,
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        postgresql_nulls_not_distinct=True,
    )


def downgrade() -> None:
    op.drop_index("uq_alerts_active_rule", table_name="alerts")
