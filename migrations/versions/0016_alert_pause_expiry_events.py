"""alerts paused and snoozed; an alert's expiry is an event its channels are told of; channel health

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

HEALTH = (
    ("last_sent_at", sa.DateTime(timezone=True)),
    ("last_error", sa.Text()),
    ("last_error_at", sa.DateTime(timezone=True)),
    ("failing_since", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.add_column("alerts", sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alerts", sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "alert_events", sa.Column("kind", sa.String(length=7), server_default=sa.text("'fired'"), nullable=False)
    )
    op.alter_column("alert_events", "price", existing_type=sa.Numeric(24, 10), nullable=True)
    op.create_check_constraint(
        "ck_alert_events_kind",
        "alert_events",
        "(kind = 'fired' AND price IS NOT NULL) OR (kind = 'expired' AND price IS NULL)",
    )
    for name, kind in HEALTH:
        op.add_column("channels", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for name, _ in HEALTH:
        op.drop_column("channels", name)
    op.execute("DELETE FROM alert_events WHERE kind = 'expired'")
    op.drop_constraint("ck_alert_events_kind", "alert_events", type_="check")
    op.alter_column("alert_events", "price", existing_type=sa.Numeric(24, 10), nullable=False)
    op.drop_column("alert_events", "kind")
    op.drop_column("alerts", "snoozed_until")
    op.drop_column("alerts", "paused_at")
