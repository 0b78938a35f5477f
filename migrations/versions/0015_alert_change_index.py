"""change rules checked per symbol: the windows a symbol's change alerts use, and two indexes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

CHANGE = "status = 'active' AND rule = 'change'"


def upgrade() -> None:
    op.add_column(
        "symbols",
        sa.Column("alert_windows", postgresql.ARRAY(sa.Integer()), server_default=sa.text("'{}'"), nullable=False),
    )
    op.execute(
        """UPDATE symbols s SET alert_windows = w.windows
            FROM (SELECT symbol, array_agg(DISTINCT window_seconds ORDER BY window_seconds) AS windows
                  FROM alerts WHERE status = 'active' AND rule = 'change' GROUP BY symbol) w
            WHERE w.symbol = s.symbol"""
    )
    op.create_index(
        "ix_alerts_armed_change",
        "alerts",
        ["symbol", "change_percent"],
        postgresql_where=sa.text(f"{CHANGE} AND armed"),
    )
    op.create_index(
        "ix_alerts_disarmed_change",
        "alerts",
        ["symbol", "direction", "change_percent"],
        postgresql_where=sa.text(f"{CHANGE} AND NOT armed"),
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_disarmed_change", table_name="alerts")
    op.drop_index("ix_alerts_armed_change", table_name="alerts")
    op.drop_column("symbols", "alert_windows")
