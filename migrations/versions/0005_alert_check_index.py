"""alert check index: range scans by symbol, rule, armed, threshold

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_alerts_active_check",
        "alerts",
        ["symbol", "rule", "armed", "threshold"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index("ix_alerts_active_symbol", table_name="alerts")


def downgrade() -> None:
    op.create_index(
        "ix_alerts_active_symbol", "alerts", ["symbol", "threshold"], postgresql_where=sa.text("status = 'active'")
    )
    op.drop_index("ix_alerts_active_check", table_name="alerts")
