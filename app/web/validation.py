"""Validation of API input: plain functions, testable without servers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.alerting.rules import (
    DEFAULT_COOLDOWN_SECONDS,
    MAX_CHANGE_PERCENT,
    MAX_COOLDOWN_SECONDS,
    MAX_NOTE_LENGTH,
    MAX_WINDOW_SECONDS,
    MIN_COOLDOWN_SECONDS,
    MIN_WINDOW_SECONDS,
    format_duration,
)
from app.market.ticks import TickError, parse_price
from app.models import CHANGE_DIRECTIONS, FREQUENCIES, RULES
from app.web.errors import ApiError
from config.settings import SYMBOL_RE


def normalise_symbol(value: object, field: str = "symbol") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{field} must be a non-empty string", field)
    symbol = value.strip().upper()
    if not SYMBOL_RE.match(symbol):
        raise ApiError(400, f"{field} {value!r} is not a valid symbol", field)
    return symbol


@dataclass(frozen=True)
class AlertSpec:
    """A valid POST /api/alerts body (channel ids not yet checked against the table)."""

    symbol: str
    rule: str
    direction: str
    threshold: Decimal | None = None
    change_percent: Decimal | None = None
    window_seconds: int | None = None
    frequency: str = "once"
    cooldown_seconds: int = 0
    expires_at: datetime | None = None
    note: str = ""
    channels: tuple[int, ...] = ()


def parse_alert(body: Any, now: datetime | None = None) -> AlertSpec:
    """The alert a POST /api/alerts body asks for, or ApiError naming the first bad field.

    ``rule`` is above, below or change; a body with only ``direction`` above/below (the
    first API's form) is read as that rule.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object with symbol, rule and its fields")
    if body.get("symbol") is None:
        raise ApiError(400, "symbol is required", "symbol")
    symbol = normalise_symbol(body["symbol"])
    rule = body.get("rule")
    if rule is None and body.get("direction") in ("above", "below"):
        rule = body["direction"]
    if rule is None:
        raise ApiError(400, "rule is required (above, below or change)", "rule")
    if rule not in RULES:
        raise ApiError(400, f"rule must be one of {', '.join(RULES)}", "rule")
    if rule == "change":
        direction = body.get("direction") or "either"
        if direction not in CHANGE_DIRECTIONS:
            raise ApiError(400, f"direction must be one of {', '.join(CHANGE_DIRECTIONS)}", "direction")
        spec = AlertSpec(
            symbol,
            rule,
            direction,
            change_percent=_percent(body.get("percent")),
            window_seconds=parse_duration(body.get("window"), "window", MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS),
        )
    else:
        if body.get("direction") not in (None, rule):
            raise ApiError(400, f"direction must be {rule} (or left out) for a {rule} rule", "direction")
        if body.get("threshold") is None:
            raise ApiError(400, "threshold is required", "threshold")
        spec = AlertSpec(symbol, rule, rule, threshold=_number(body["threshold"], "threshold"))
    return replace(
        spec,
        **_frequency(body),
        expires_at=_expiry(body.get("expires_at"), now or datetime.now(UTC)),
        note=_note(body.get("note")),
        channels=_channel_ids(body.get("channels")),
    )


THOUSANDS_RE = re.compile(r"^\s*\d{1,3}(,\d{3})+(\.\d*)?\s*$")


def _number(value: object, field: str) -> Decimal:
    """A positive number; as text it may have thousands separators, as the page shows prices."""
    if isinstance(value, str) and THOUSANDS_RE.match(value):
        value = value.replace(",", "")
    try:
        return parse_price(value, field)
    except TickError as exc:
        raise ApiError(400, str(exc), field) from None


def _percent(value: object) -> Decimal:
    if value is None:
        raise ApiError(400, "percent is required for a change rule", "percent")
    percent = _number(value, "percent")
    if percent > MAX_CHANGE_PERCENT:
        raise ApiError(400, f"percent must be greater than 0 and at most {MAX_CHANGE_PERCENT}", "percent")
    return percent


DURATION_RE = re.compile(r"^\s*(\d+)\s*(s|m|min|h|d)?\s*$", re.ASCII)  # ASCII digits: int() takes "٣" too
UNIT_SECONDS = {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: object, field: str, minimum: int, maximum: int) -> int:
    """Seconds from a whole number of seconds or a string like 90s, 15m, 4h, 7d."""
    if value is None:
        raise ApiError(400, f"{field} is required", field)
    match = DURATION_RE.match(value) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif match:
        seconds = int(match[1]) * UNIT_SECONDS[match[2]]
    else:
        raise ApiError(400, f"{field} must be a number of seconds or a duration like 15m, 4h or 7d", field)
    if not minimum <= seconds <= maximum:
        raise ApiError(400, f"{field} must be from {format_duration(minimum)} to {format_duration(maximum)}", field)
    return seconds


def _frequency(body: dict[str, Any]) -> dict[str, Any]:
    frequency = body.get("frequency") or "once"
    if frequency not in FREQUENCIES:
        raise ApiError(400, f"frequency must be one of {', '.join(FREQUENCIES)}", "frequency")
    cooldown = body.get("cooldown")
    if frequency == "once":
        if cooldown is not None:
            raise ApiError(400, "cooldown applies only to every_time alerts", "cooldown")
        return {"frequency": frequency, "cooldown_seconds": 0}
    if cooldown is None:
        cooldown = DEFAULT_COOLDOWN_SECONDS
    seconds = parse_duration(cooldown, "cooldown", MIN_COOLDOWN_SECONDS, MAX_COOLDOWN_SECONDS)
    return {"frequency": frequency, "cooldown_seconds": seconds}


def parse_instant(value: object, field: str) -> datetime:
    """An ISO 8601 time with a timezone ("Z" too), in UTC."""
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise ApiError(400, f"{field} must be an ISO 8601 time with a timezone, like 2027-01-31T18:00:00Z", field)
    try:
        return instant.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first UTC moment Python has
        raise ApiError(400, f"{field} is out of range in UTC", field) from None


def _expiry(value: object, now: datetime) -> datetime | None:
    if value is None:
        return None
    expires = parse_instant(value, "expires_at")
    if expires <= now:
        raise ApiError(400, "expires_at must be in the future", "expires_at")
    return expires


def _note(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, "note must be a string", "note")
    if len(value) > MAX_NOTE_LENGTH:
        raise ApiError(400, f"note must be at most {MAX_NOTE_LENGTH} characters (it has {len(value)})", "note")
    note = value.strip()
    if any(unicodedata.category(c) == "Cc" for c in note):
        raise ApiError(400, "note must be one line of text without control characters", "note")
    return note


def _channel_ids(value: object) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ApiError(400, "channels must be a list of channel ids", "channels")
    return tuple(dict.fromkeys(value))


def parse_whole(raw: str | None, field: str, default: int, minimum: int, maximum: int) -> int:
    """A whole number of ASCII digits within [minimum, maximum] (str.isdigit and int() take "٣" and
    other scripts' digits too), or ``default`` when not given."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
        raise ApiError(400, f"{field} must be a whole number from {minimum} to {maximum}", field)
    return int(raw)


def parse_points(raw: str | None, default: int) -> int:
    return parse_whole(raw, "points", default, 1, 10_000)
