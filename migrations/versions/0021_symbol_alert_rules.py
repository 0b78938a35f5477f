"""symbols.alert_rules: the rules of a symbol's active alerts, for the alert check's gate

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "symbols",
        sa.Column("alert_rules", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    )
    op.execute(
        """UPDATE symbols s SET alert_rules = r.rules
            FROM (SELECT symbol, array_agg(DISTINCT rule ORDER BY rule) AS rules
                  FROM alerts WHERE status = 'active' AND symbol IS NOT NULL GROUP BY symbol) r
            WHERE r.symbol = s.symbol"""
    )


def downgrade() -> None:
    op.drop_column("symbols", "alert_rules")
