"""The tick: one observed price of one symbol, as it travels Kafka and Celery.

Carries the source's timestamp (observed_at) and ours (received_at), and the
source's name so that simulated prices are labelled all the way to the page. ``volume``, where
the source's answer carries one, is what was traded since its previous figure (it adds up in the
candles); a message without it (older producers) is a tick without volume.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from config.settings import CRYPTO_SOURCE_RE, SYMBOL_RE

SCHEMA_VERSION = 1
SOURCES = ("yfinance", "simulated")  # and an exchange through ccxt: "ccxt:kraken"
# A tick from further ahead than any clock skew would be "latest" until that time comes; one
# from long ago would open the "all" range at a date nothing else is from.
MAX_AHEAD = timedelta(hours=1)
MAX_AGE = timedelta(days=30)
# Prices are stored as numeric(24, 10) (app/models.py PRICE): 14 digits before the point, 10 after.
MIN_PRICE = Decimal("1e-10")
MAX_PRICE = Decimal("1e14")  # Numeric(24, 10) holds 14 digits before the point
MAX_VOLUME = Decimal("1e22")  # Numeric(30, 8) holds 22 digits before the point


class TickError(ValueError):
    """A message that is not a valid tick; the message says which field."""


@dataclass(frozen=True)
class Tick:
    symbol: str
    price: Decimal
    observed_at: datetime
    received_at: datetime
    source: str
    volume: Decimal | None = None

    def to_message(self) -> dict[str, Any]:
        """JSON-safe form: the price as a decimal string so no digit is lost."""
        message = {
            "v": SCHEMA_VERSION,
            "symbol": self.symbol,
            "price": str(self.price),
            "observed_at": self.observed_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "source": self.source,
        }
        if self.volume is not None:
            message["volume"] = str(self.volume)
        return message

    def encode(self) -> bytes:
        return json.dumps(self.to_message(), separators=(",", ":")).encode()

    @classmethod
    def from_message(cls, data: Mapping[str, Any]) -> Tick:
        if not isinstance(data, Mapping):
            raise TickError("tick must be a JSON object")
        if data.get("v") != SCHEMA_VERSION:
            raise TickError(f"unsupported schema version {data.get('v')!r}")
        symbol = data.get("symbol")
        if not isinstance(symbol, str) or not SYMBOL_RE.match(symbol):
            raise TickError(f"invalid symbol {symbol!r}")
        source = data.get("source")
        if source not in SOURCES and not (isinstance(source, str) and CRYPTO_SOURCE_RE.match(source)):
            raise TickError(f"invalid source {source!r}")
        return cls(
            symbol=symbol,
            price=parse_price(data.get("price"), "price"),
            observed_at=_parse_time(data.get("observed_at"), "observed_at"),
            received_at=_parse_time(data.get("received_at"), "received_at"),
            source=source,
            volume=parse_volume(data["volume"]) if data.get("volume") is not None else None,
        )

    @classmethod
    def decode(cls, raw: bytes) -> Tick:
        """A tick from a Kafka record's bytes; any other record raises TickError, and only that
        (the bridge dead-letters it: one bad record must never stop a partition)."""
        try:
            data = json.loads(raw)
        except RecursionError:
            raise TickError("not JSON this project reads: nested too deeply") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise TickError(f"not JSON: {exc}") from None
        try:
            return cls.from_message(data)
        except TickError:
            raise
        except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:  # a case the checks missed
            raise TickError(f"not a tick: {type(exc).__name__}: {exc}") from None


def parse_price(value: object, field: str) -> Decimal:
    """A finite positive decimal from a JSON number or numeric string."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TickError(f"{field} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise TickError(f"{field} must be a finite number")
    if isinstance(value, str) and not value.isascii():  # Decimal("٣") is 3: take ASCII digits only
        raise TickError(f"{field} must be a number")
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise TickError(f"{field} must be a number") from None
    if not price.is_finite():
        raise TickError(f"{field} must be a finite number")
    if price <= 0:
        raise TickError(f"{field} must be greater than 0")
    if price < MIN_PRICE:  # would be stored as 0
        raise TickError(f"{field} must be at least 1e-10, the smallest price stored")
    if price >= MAX_PRICE:
        raise TickError(f"{field} is too large")
    return price


def parse_volume(value: object) -> Decimal:
    """A finite decimal >= 0 that fits the volume column (numeric(30, 8))."""
    if (
        isinstance(value, bool)
        or not isinstance(value, str | int | float)
        or (isinstance(value, str) and not value.isascii())
    ):
        raise TickError("volume must be a number")
    try:
        volume = Decimal(str(value))
    except InvalidOperation:
        raise TickError("volume must be a number") from None
    if not volume.is_finite() or volume < 0:
        raise TickError("volume must be a finite number, 0 or more")
    if volume >= MAX_VOLUME:
        raise TickError("volume is too large")
    return volume


def _parse_time(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise TickError(f"{field} must be an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TickError(f"{field} must be an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise TickError(f"{field} must carry a timezone")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the last UTC moment Python has
        raise TickError(f"{field} is out of range in UTC") from None


def check_recent(tick: Tick, now: datetime) -> None:
    """TickError unless the tick's times lie within MAX_AGE before and MAX_AHEAD after ``now``
    (checked where ticks come in from Kafka)."""
    for name in ("observed_at", "received_at"):
        value: datetime = getattr(tick, name)
        if value > now + MAX_AHEAD:
            raise TickError(f"{name} is more than an hour ahead of this clock")
        if value < now - MAX_AGE:
            raise TickError(f"{name} is more than {MAX_AGE.days} days old")
