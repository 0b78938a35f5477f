"""symbols' alert bands: where a batch's prices must go to change one of the symbol's above,
below or change alerts (the alert check's gate passes the others by)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

PRICE = sa.Numeric(24, 10)
ACTIVE = "FROM alerts a WHERE a.symbol = s.symbol AND a.status = 'active'"
BANDS = {
    "fires_above": f"(SELECT min(a.threshold) {ACTIVE} AND a.rule = 'above' AND a.armed)",
    "fires_below": f"(SELECT max(a.threshold) {ACTIVE} AND a.rule = 'below' AND a.armed)",
    "rearms_below": f"(SELECT max(a.threshold) {ACTIVE} AND a.rule = 'above' AND NOT a.armed)",
    "rearms_above": f"(SELECT min(a.threshold) {ACTIVE} AND a.rule = 'below' AND NOT a.armed)",
    "fires_moved": f"(SELECT min(a.change_percent) {ACTIVE} AND a.rule = 'change' AND a.armed)",
    "rearms_change": f"EXISTS (SELECT 1 {ACTIVE} AND a.rule = 'change' AND NOT a.armed)",
}


def upgrade() -> None:
    for name in ("fires_above", "fires_below", "rearms_below", "rearms_above"):
        op.add_column("symbols", sa.Column(name, PRICE, nullable=True))
    op.add_column("symbols", sa.Column("fires_moved", sa.Numeric(10, 4), nullable=True))
    op.add_column("symbols", sa.Column("rearms_change", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    assignments = ", ".join(f"{name} = {value}" for name, value in BANDS.items())
    op.execute(f"UPDATE symbols s SET {assignments} WHERE s.alert_rules <> '{{}}'")  # noqa: S608 - constants


def downgrade() -> None:
    for name in BANDS:
        op.drop_column("symbols", name)
