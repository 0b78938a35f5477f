"""notification channels, richer alert rules, alert events and deliveries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PRICE = sa.Numeric(precision=24, scale=10)
RULE_FIELDS = (
    "(rule IN ('above', 'below') AND direction = rule AND threshold IS NOT NULL)"
    " OR (rule = 'change' AND direction IN ('up', 'down', 'either')"
    " AND change_percent > 0 AND window_seconds > 0)"
)


def upgrade() -> None:
    # Existing alerts are one-time above/below rules: rule = direction.
    op.add_column("alerts", sa.Column("rule", sa.String(length=6), nullable=True))
    op.execute("UPDATE alerts SET rule = direction")
    op.alter_column("alerts", "rule", nullable=False)
    op.alter_column("alerts", "direction", type_=sa.String(length=6), existing_nullable=False)
    op.alter_column("alerts", "threshold", nullable=True, existing_type=PRICE)
    op.add_column("alerts", sa.Column("change_percent", sa.Numeric(precision=10, scale=4), nullable=True))
    op.add_column("alerts", sa.Column("window_seconds", sa.Integer(), nullable=True))
    op.add_column("alerts", sa.Column("frequency", sa.String(length=10), server_default="once", nullable=False))
    op.add_column("alerts", sa.Column("cooldown_seconds", sa.Integer(), server_default="0", nullable=False))
    op.add_column("alerts", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alerts", sa.Column("note", sa.String(length=200), server_default="", nullable=False))
    op.add_column("alerts", sa.Column("armed", sa.Boolean(), server_default=sa.text("true"), nullable=False))
    op.add_column("alerts", sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.add_column("alerts", sa.Column("fire_count", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE alerts SET fire_count = 1 WHERE status = 'triggered'")
    op.drop_constraint("ck_alerts_direction", "alerts", type_="check")
    op.drop_constraint("ck_alerts_status", "alerts", type_="check")
    op.create_check_constraint("ck_alerts_rule", "alerts", "rule IN ('above', 'below', 'change')")
    op.create_check_constraint("ck_alerts_rule_fields", "alerts", RULE_FIELDS)
    op.create_check_constraint(
        "ck_alerts_status", "alerts", "status IN ('active', 'triggered', 'cancelled', 'expired')"
    )
    op.create_check_constraint("ck_alerts_frequency", "alerts", "frequency IN ('once', 'every_time')")
    op.create_check_constraint("ck_alerts_note_length", "alerts", "char_length(note) <= 200")

    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "alert_channels",
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("price", PRICE, nullable=False),
        sa.Column("reference_price", PRICE, nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    # Alerts that fired before this version get their one event, so their history is not empty.
    op.execute(
        "INSERT INTO alert_events (alert_id, price, observed_at, fired_at)"
        " SELECT id, triggered_price, triggered_at, triggered_at FROM alerts WHERE status = 'triggered'"
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("event_id", sa.BigInteger(), sa.ForeignKey("alert_events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id", ondelete="SET NULL"), nullable=True),
        sa.Column("channel_name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=7), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.UniqueConstraint("event_id", "channel_id", name="uq_deliveries_event_channel"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_deliveries_status"),
    )
    op.create_index(
        "ix_deliveries_pending", "deliveries", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_pending", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_alert_events_alert_id", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_channels")
    op.drop_table("channels")
    # Only one-time above/below alerts existed before; the others cannot go back.
    op.execute("DELETE FROM alerts WHERE rule = 'change' OR frequency <> 'once' OR status = 'expired'")
    for name in ("ck_alerts_note_length", "ck_alerts_frequency", "ck_alerts_status", "ck_alerts_rule_fields"):
        op.drop_constraint(name, "alerts", type_="check")
    op.drop_constraint("ck_alerts_rule", "alerts", type_="check")
    op.create_check_constraint("ck_alerts_status", "alerts", "status IN ('active', 'triggered', 'cancelled')")
    op.create_check_constraint("ck_alerts_direction", "alerts", "direction IN ('above', 'below')")
    for column in ("fire_count", "version", "armed", "note", "expires_at", "cooldown_seconds", "frequency"):
        op.drop_column("alerts", column)
    op.drop_column("alerts", "window_seconds")
    op.drop_column("alerts", "change_percent")
    op.alter_column("alerts", "threshold", nullable=False, existing_type=PRICE)
    op.alter_column("alerts", "direction", type_=sa.String(length=5), existing_nullable=False)
    op.drop_column("alerts", "rule")
