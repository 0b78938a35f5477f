"""Typed SQLAlchemy 2 models; the schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

PRICE = Numeric(24, 10)
DIRECTIONS = ("above", "below")
STATUSES = ("active", "triggered", "cancelled")


class Symbol(db.Model):  # type: ignore[name-defined]
    __tablename__ = "symbols"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Tick(db.Model):  # type: ignore[name-defined]
    __tablename__ = "ticks"
    # The unique index also serves "last N points of a symbol" and time ranges:
    # it leads with (symbol, observed_at), scanned backwards for the newest.
    __table_args__ = (UniqueConstraint("symbol", "observed_at", "source", name="uq_ticks_symbol_observed_source"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), ForeignKey("symbols.symbol"))
    price: Mapped[Decimal] = mapped_column(PRICE)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))


class Alert(db.Model):  # type: ignore[name-defined]
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("direction IN ('above', 'below')", name="ck_alerts_direction"),
        CheckConstraint("status IN ('active', 'triggered', 'cancelled')", name="ck_alerts_status"),
        CheckConstraint("threshold > 0", name="ck_alerts_threshold_positive"),
        # Alert checks look up only the active alerts of the batch's symbols.
        Index("ix_alerts_active_symbol", "symbol", "threshold", postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), ForeignKey("symbols.symbol"))
    direction: Mapped[str] = mapped_column(String(5))
    threshold: Mapped[Decimal] = mapped_column(PRICE)
    status: Mapped[str] = mapped_column(String(9), server_default=text("'active'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    triggered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    triggered_price: Mapped[Decimal | None] = mapped_column(PRICE)
