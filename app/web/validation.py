"""Validation of API input: plain functions, testable without servers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.alerting.rules import (
    DEFAULT_COOLDOWN_SECONDS,
    HOLDING_RULES,
    MAX_CHANGE_PERCENT,
    MAX_COOLDOWN_SECONDS,
    MAX_NOTE_LENGTH,
    MAX_PNL_PERCENT,
    MAX_WINDOW_SECONDS,
    MIN_COOLDOWN_SECONDS,
    MIN_PNL_PERCENT,
    MIN_WINDOW_SECONDS,
    format_duration,
)
from app.market.indicators import MAX_PERIOD, MIN_PERIOD
from app.market.ticks import MAX_PRICE, TickError, parse_price
from app.models import CHANGE_DIRECTIONS, DIRECTIONS, FREQUENCIES, MOVING_AVERAGES, PORTFOLIO_RULES, RULES, TIMEFRAMES
from app.web.errors import INVALID, UNPROCESSABLE, ApiError

MAX_QUERY_PARAMS = 10  # a request's query: parameters, and characters in a name or a value
MAX_QUERY_VALUE = 200
MAX_SEARCH_LENGTH = 64  # a symbol search's text

# What a field may look like, as /openapi.json states it (app/web/schema.py) and as checked here:
# the two must agree (tests/integration/test_openapi.py). ECMA-262 and Python read them alike; no
# \s or \d, which the two engines read differently.
# A symbol as typed: any case, spaces around (stored upper-case: config.settings.SYMBOL_RE).
SYMBOL_PATTERN = r"^ *[A-Za-z0-9^][A-Za-z0-9.=^-]{0,31} *$"
CONTROL = r"\x00-\x1f\x7f-\x9f"  # Unicode's control characters (category Cc)
BLANK = CONTROL + r"\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # and str.isspace()'s
NAME_PATTERN = rf"^[^{CONTROL}]*[^{BLANK}][^{CONTROL}]*$"  # one line, not blank
NOTE_PATTERN = rf"^[^{CONTROL}]*$"
# A positive decimal as text, thousands separated or not ("97,000.5", "1e-8"); its range is checked after.
NUMBER_PATTERN = r"^ *(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)? *$"
# The same with a sign: a P&L percentage may be a loss ("-10").
SIGNED_NUMBER_PATTERN = NUMBER_PATTERN.replace("^ *", "^ *[+-]?", 1)
DURATION_PATTERN = r"^ *([0-9]+) *(s|m|min|h|d)? *$"  # 90s, 15m, 4h, 7d; a bare number is seconds
CLOCK_PATTERN = r"^ *([01][0-9]|2[0-3]):([0-5][0-9]) *$"  # a time of day, 24-hour: 07:30, 18:00
ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}$"  # an IANA zone name: Europe/Paris, UTC
WHOLE_RE = re.compile(r"([0-9]+)(?:\.0+)?")
MAX_ID = 2**62  # ids are PostgreSQL bigints
DEFAULT_RSI_PERIOD = 14  # Wilder's
# The fields of one rule (or a few): sent with another, they are refused rather than ignored.
RULE_FIELDS = {
    "threshold": ("above", "below", "value", "total"), "percent": ("change", "pnl"), "window": ("change",),
    "indicator": ("cross", "rsi"), "period": ("cross", "rsi"), "timeframe": ("cross", "rsi"), "level": ("rsi",),
    "at": ("daily",), "timezone": ("daily",),
}  # fmt: skip
SYMBOL_RE, NAME_RE, NOTE_RE, NUMBER_RE, SIGNED_NUMBER_RE, DURATION_RE, CLOCK_RE, ZONE_RE = (
    re.compile(p)
    for p in (
        SYMBOL_PATTERN, NAME_PATTERN, NOTE_PATTERN, NUMBER_PATTERN, SIGNED_NUMBER_PATTERN, DURATION_PATTERN,
        CLOCK_PATTERN, ZONE_PATTERN,
    )
)  # fmt: skip


def normalise_symbol(value: object, field: str = "symbol") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(INVALID, f"{field} must be a non-empty string", field)
    if not SYMBOL_RE.fullmatch(value):
        raise ApiError(INVALID, f"{field} {value!r} is not a valid symbol", field)
    return value.strip(" ").upper()


def parse_name(value: object, field: str, max_length: int) -> str:
    """A display name: one line of at most ``max_length`` characters, not blank; stored stripped."""
    if not isinstance(value, str) or len(value) > max_length or not NAME_RE.fullmatch(value):
        message = f"{field} must be 1 to {max_length} characters on one line, not blank"
        raise ApiError(INVALID, message, field)
    return value.strip()


@dataclass(frozen=True)
class AlertSpec:
    """A valid POST /api/alerts body (channel ids not yet checked against the table)."""

    symbol: str | None  # None for the portfolio's rules
    rule: str
    direction: str
    threshold: Decimal | None = None
    change_percent: Decimal | None = None
    window_seconds: int | None = None
    indicator: str | None = None
    period: int | None = None
    timeframe: str | None = None
    level: Decimal | None = None
    daily_at: time | None = None
    timezone: str | None = None
    currency: str | None = None  # total: set by the caller (BASE_CURRENCY), not by the body
    frequency: str = "once"
    cooldown_seconds: int = 0
    expires_at: datetime | None = None
    note: str = ""
    channels: tuple[int, ...] = ()


def parse_alert(body: Any, now: datetime | None = None, zone: str = "UTC") -> AlertSpec:
    """The alert a POST /api/alerts body asks for, or ApiError naming the first bad field: 400 for
    a field not of its documented form, 422 for fields that do not go together.

    ``rule`` is one of RULES; a body with only ``direction`` above/below (the first API's form) is
    read as that rule. The portfolio's rules (total, daily) take no symbol; ``zone``: a daily
    summary's timezone when the body names none.
    """
    if not isinstance(body, dict):
        raise ApiError(INVALID, "request body must be a JSON object with symbol, rule and its fields")
    rule, direction = body.get("rule"), body.get("direction")
    if rule is not None and rule not in RULES:
        raise ApiError(INVALID, f"rule must be one of {', '.join(RULES)}", "rule")
    if direction is not None and direction not in (*DIRECTIONS, "daily"):
        raise ApiError(INVALID, f"direction must be one of {', '.join(DIRECTIONS)}", "direction")
    if rule is None and direction in ("above", "below"):
        rule = direction
    if rule in PORTFOLIO_RULES:
        if body.get("symbol") is not None:
            raise ApiError(
                UNPROCESSABLE, f"symbol does not go with the {rule} rule: it is on the whole portfolio", "symbol"
            )
        return _portfolio_rule(rule, direction, body, now, zone)
    if rule is None:
        raise ApiError(UNPROCESSABLE, f"rule is required ({', '.join(RULES)})", "rule")
    if body.get("symbol") is None:  # the document cannot say so: only the portfolio's rules go without
        raise ApiError(UNPROCESSABLE, f"symbol is required for the {rule} rule", "symbol")
    symbol = normalise_symbol(body["symbol"])
    if rule in ("cross", "rsi"):
        spec = _indicator_rule(symbol, rule, direction, body)
    elif rule == "change":
        if direction not in (None, *CHANGE_DIRECTIONS):
            raise ApiError(UNPROCESSABLE, f"direction must be one of {', '.join(CHANGE_DIRECTIONS)}", "direction")
        spec = AlertSpec(
            symbol,
            rule,
            direction or "either",
            change_percent=_percent(body.get("percent")),
            window_seconds=parse_duration(body.get("window"), "window", MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS),
        )
    elif rule in HOLDING_RULES:
        spec = _holding_rule(symbol, rule, direction, body)
    else:
        if direction not in (None, rule):
            raise ApiError(UNPROCESSABLE, f"direction must be {rule} (or left out) for the {rule} rule", "direction")
        if body.get("threshold") is None:
            raise ApiError(UNPROCESSABLE, f"threshold is required for the {rule} rule", "threshold")
        spec = AlertSpec(symbol, rule, rule, threshold=_number(body["threshold"], "threshold"))
    return _common(spec, body, _frequency(body), now)


def _common(spec: AlertSpec, body: dict[str, Any], frequency: dict[str, Any], now: datetime | None) -> AlertSpec:
    """The fields every rule takes, and none of another rule's."""
    for field, used in RULE_FIELDS.items():
        if body.get(field) is not None and spec.rule not in used:
            raise ApiError(UNPROCESSABLE, f"{field} does not go with the {spec.rule} rule", field)
    return replace(
        spec,
        **frequency,
        expires_at=_expiry(body.get("expires_at"), now or datetime.now(UTC)),
        note=_note(body.get("note")),
        channels=_channel_ids(body.get("channels")),
    )


def _portfolio_rule(
    rule: str, direction: str | None, body: dict[str, Any], now: datetime | None, zone: str
) -> AlertSpec:
    """total: the portfolio's worth above / below ``threshold``; daily: a summary every day ``at``
    HH:MM in ``timezone``. A summary goes out every day: it takes no frequency or cooldown."""
    if rule == "total":
        if direction not in ("above", "below"):
            raise ApiError(UNPROCESSABLE, "direction is required for the total rule: above or below", "direction")
        if body.get("threshold") is None:
            raise ApiError(UNPROCESSABLE, "threshold is required for the total rule", "threshold")
        spec = AlertSpec(None, rule, direction, threshold=_number(body["threshold"], "threshold"))
        return _common(spec, body, _frequency(body), now)
    if direction not in (None, "daily"):
        raise ApiError(UNPROCESSABLE, "direction does not go with the daily rule", "direction")
    if body.get("at") is None:  # the document cannot say so: only this rule needs it
        raise ApiError(UNPROCESSABLE, "at is required for the daily rule: a time of day as HH:MM", "at")
    for field in ("frequency", "cooldown"):
        if body.get(field) not in (None, "every_time"):
            raise ApiError(UNPROCESSABLE, f"{field} does not go with the daily rule: it goes out every day", field)
    spec = AlertSpec(
        None, rule, "daily", daily_at=parse_clock(body.get("at")), timezone=parse_zone(body.get("timezone") or zone)
    )
    return _common(spec, body, {"frequency": "every_time", "cooldown_seconds": 0}, now)


def parse_clock(value: object, field: str = "at") -> time:
    """A time of day as HH:MM, 24-hour."""
    match = CLOCK_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ApiError(INVALID, f"{field} must be a time of day as HH:MM, like 18:00", field)
    return time(int(match[1]), int(match[2]))


def parse_zone(value: object, field: str = "timezone") -> str:
    """An IANA timezone name this server knows (Europe/Paris, America/New_York, UTC)."""
    if not isinstance(value, str) or not ZONE_RE.fullmatch(value):
        raise ApiError(INVALID, f"{field} must be an IANA timezone name, like Europe/Paris", field)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(UNPROCESSABLE, f"{field} {value!r} is not a timezone this server knows", field) from None
    return value


def _range_status(value: object) -> int:
    """A number out of range is INVALID (the document states the range of numbers), text in the
    right form but out of range is UNPROCESSABLE (a pattern cannot state a range)."""
    return UNPROCESSABLE if isinstance(value, str) else INVALID


def _number(value: object, field: str) -> Decimal:
    """A positive number; as text it may have thousands separators, as the page shows prices."""
    if isinstance(value, str):
        if not NUMBER_RE.fullmatch(value):
            raise ApiError(INVALID, f"{field} must be a number", field)
        value = value.replace(",", "")
    try:
        return parse_price(value, field)
    except TickError as exc:
        raise ApiError(_range_status(value), str(exc), field) from None


def _holding_rule(symbol: str, rule: str, direction: str | None, body: dict[str, Any]) -> AlertSpec:
    """A position's worth (``value``: threshold) or its P&L in % (``pnl``: percent, negative for a loss)."""
    if direction not in ("above", "below"):
        raise ApiError(UNPROCESSABLE, f"direction is required for the {rule} rule: above or below", "direction")
    if rule == "value":
        if body.get("threshold") is None:
            raise ApiError(UNPROCESSABLE, "threshold is required for the value rule", "threshold")
        return AlertSpec(symbol, rule, direction, threshold=_number(body["threshold"], "threshold"))
    return AlertSpec(symbol, rule, direction, change_percent=_pnl_percent(body.get("percent")))


def _pnl_percent(value: object) -> Decimal:
    if value is None:
        raise ApiError(UNPROCESSABLE, "percent is required for the pnl rule", "percent")
    percent = _signed_percent(value)
    if not MIN_PNL_PERCENT < percent <= MAX_PNL_PERCENT:
        message = f"percent must be more than {MIN_PNL_PERCENT} and at most {MAX_PNL_PERCENT}"
        raise ApiError(UNPROCESSABLE, message, "percent")
    return percent


def _signed_percent(value: object) -> Decimal:
    """A number, or one as text with a sign and separators ("-7.5", "1,200"): 400 if it is neither;
    422 for more than the 4 decimals a percentage is kept to."""
    if isinstance(value, str):
        if not SIGNED_NUMBER_RE.fullmatch(value):
            raise ApiError(INVALID, "percent must be a number", "percent")
        value = value.replace(",", "").strip()
    elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(INVALID, "percent must be a number", "percent")
    percent = Decimal(str(value))
    if -percent.as_tuple().exponent > 4:  # type: ignore[operator]  # finite: checked above
        raise ApiError(UNPROCESSABLE, "percent has more than 4 decimals", "percent")
    return percent


def _percent(value: object) -> Decimal:
    """A change rule's percentage: more than 0, at most MAX_CHANGE_PERCENT."""
    if value is None:
        raise ApiError(UNPROCESSABLE, "percent is required for a change rule", "percent")
    percent = _signed_percent(value)
    if not 0 < percent <= MAX_CHANGE_PERCENT:
        message = f"percent must be greater than 0 and at most {MAX_CHANGE_PERCENT}"
        raise ApiError(UNPROCESSABLE, message, "percent")
    return percent


def _indicator_rule(symbol: str, rule: str, direction: str | None, body: dict[str, Any]) -> AlertSpec:
    """cross: the price crosses above / below SMA or EMA(period); rsi: RSI(period) at or above /
    at or below level; both on timeframe candles (1m, 1h, 1d; default 1h)."""
    if direction not in ("above", "below"):
        raise ApiError(UNPROCESSABLE, f"direction must be above or below for the {rule} rule", "direction")
    timeframe = body.get("timeframe", "1h")
    if timeframe not in TIMEFRAMES:
        raise ApiError(INVALID, f"timeframe must be one of {', '.join(TIMEFRAMES)}", "timeframe")
    default = DEFAULT_RSI_PERIOD if rule == "rsi" else None
    period = _whole_in(body.get("period", default), "period", MIN_PERIOD, MAX_PERIOD)
    indicator = body.get("indicator")
    if rule == "rsi":
        if indicator not in (None, "rsi"):
            raise ApiError(UNPROCESSABLE, "indicator is rsi (or left out) for the rsi rule", "indicator")
        level = body.get("level")
        if level is None:
            raise ApiError(UNPROCESSABLE, "level is required for the rsi rule (e.g. 70)", "level")
        number = _number(level, "level")
        if not number < 100:
            raise ApiError(_range_status(level), "level must be greater than 0 and less than 100", "level")
        return AlertSpec(symbol, rule, direction, indicator="rsi", period=period, timeframe=timeframe, level=number)
    if indicator is None:
        raise ApiError(UNPROCESSABLE, "indicator is required for the cross rule: sma or ema", "indicator")
    if indicator not in MOVING_AVERAGES:  # rsi is a word the API knows, of another rule: 422
        status = UNPROCESSABLE if indicator == "rsi" else INVALID
        raise ApiError(status, "indicator must be sma or ema for the cross rule", "indicator")
    return AlertSpec(symbol, rule, direction, indicator=indicator, period=period, timeframe=timeframe)


def _whole_in(value: object, field: str, minimum: int, maximum: int) -> int:
    if value is None:
        raise ApiError(UNPROCESSABLE, f"{field} is required", field)
    whole = whole_number(value)
    if whole is None:
        raise ApiError(INVALID, f"{field} must be a whole number", field)
    if not minimum <= whole <= maximum:
        raise ApiError(_range_status(value), f"{field} must be from {minimum} to {maximum}", field)
    return whole


UNIT_SECONDS = {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: object, field: str, minimum: int, maximum: int) -> int:
    """Seconds from a whole number of seconds or a string like 90s, 15m, 4h, 7d."""
    if value is None:
        raise ApiError(UNPROCESSABLE, f"{field} is required", field)
    match = DURATION_RE.fullmatch(value) if isinstance(value, str) else None
    if (whole := whole_number(value)) is not None:
        seconds = whole
    elif match:
        seconds = int(match[1]) * UNIT_SECONDS[match[2]]
    else:
        raise ApiError(INVALID, f"{field} must be a number of seconds or a duration like 15m, 4h or 7d", field)
    if not minimum <= seconds <= maximum:
        message = f"{field} must be from {format_duration(minimum)} to {format_duration(maximum)}"
        raise ApiError(_range_status(value), message, field)
    return seconds


def _frequency(body: dict[str, Any]) -> dict[str, Any]:
    frequency = body.get("frequency")
    if frequency is not None and frequency not in FREQUENCIES:
        raise ApiError(INVALID, f"frequency must be one of {', '.join(FREQUENCIES)}", "frequency")
    cooldown = body.get("cooldown")
    if frequency in (None, "once"):
        if cooldown is not None:
            raise ApiError(UNPROCESSABLE, "cooldown applies only to every_time alerts", "cooldown")
        return {"frequency": "once", "cooldown_seconds": 0}
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
        message = f"{field} must be an ISO 8601 time with a timezone, like 2027-01-31T18:00:00Z"
        raise ApiError(INVALID, message, field)
    try:
        return instant.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first UTC moment Python has
        raise ApiError(UNPROCESSABLE, f"{field} is out of range in UTC", field) from None


def _expiry(value: object, now: datetime) -> datetime | None:
    if value is None:
        return None
    expires = parse_instant(value, "expires_at")
    if expires <= now:
        raise ApiError(UNPROCESSABLE, "expires_at must be in the future", "expires_at")
    return expires


def _note(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(INVALID, "note must be a string", "note")
    if len(value) > MAX_NOTE_LENGTH:
        message = f"note must be at most {MAX_NOTE_LENGTH} characters (it has {len(value)})"
        raise ApiError(INVALID, message, "note")
    if not NOTE_RE.fullmatch(value):
        raise ApiError(INVALID, "note must be one line of text without control characters", "note")
    return value.strip()


def _channel_ids(value: object) -> tuple[int, ...]:
    if value is None:
        return ()
    ids = [whole_number(v) for v in value] if isinstance(value, list) else [None]
    if not all(i is not None and 1 <= i <= MAX_ID for i in ids):
        raise ApiError(INVALID, "channels must be a list of channel ids", "channels")
    return tuple(dict.fromkeys(ids))  # type: ignore[arg-type]  # None is refused above


def whole_number(value: object) -> int | None:
    """A JSON integer, 3600.0 too (JSON Schema's integer takes it), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def parse_whole(raw: str | None, field: str, default: int, minimum: int, maximum: int) -> int:
    """A whole number of ASCII digits within [minimum, maximum] (str.isdigit and int() take "٣" and
    other scripts' digits too), or ``default`` when not given. "300.0" is whole, as JSON Schema's
    integer is."""
    if raw is None:
        return default
    whole = WHOLE_RE.fullmatch(raw)
    if whole is None or not minimum <= int(whole[1]) <= maximum:
        raise ApiError(INVALID, f"{field} must be a whole number from {minimum} to {maximum}", field)
    return int(whole[1])


def parse_search(raw: str | None) -> str:
    """A search's text: one line, not blank, at most MAX_SEARCH_LENGTH characters; kept stripped."""
    if raw is None:
        raise ApiError(INVALID, "q is required: a name or the beginning of a symbol (apple, AAP)", "q")
    return parse_name(raw, "q", MAX_SEARCH_LENGTH)


def parse_points(raw: str | None, default: int) -> int:
    return parse_whole(raw, "points", default, 1, 10_000)


@dataclass(frozen=True)
class TradeSpec:
    """A valid transaction (POST /api/transactions body, or a CSV row): symbol not yet checked."""

    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    fees: Decimal
    traded_at: datetime
    note: str = ""


TRADE_DECIMALS = 10  # numeric(.., 10): more would be rounded away by PostgreSQL, so it is refused
# A day (its start in UTC), or a time of day with a timezone.
DATE_PATTERN = (
    r"^ *[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2}))? *$"
)
DATE_RE = re.compile(DATE_PATTERN)


def parse_trade(body: Any, now: datetime | None = None) -> TradeSpec:
    """The transaction a body asks for, or ApiError naming the first bad field."""
    if not isinstance(body, dict):
        raise ApiError(INVALID, "send a JSON object with symbol, side, quantity, price and date")
    for required in ("symbol", "side", "quantity", "price", "date"):
        if body.get(required) in (None, ""):
            raise ApiError(INVALID, f"{required} is required", required)
    side = body["side"]
    if side not in ("buy", "sell"):
        raise ApiError(INVALID, "side must be buy or sell", "side")
    return TradeSpec(
        normalise_symbol(body["symbol"]),
        side,
        _amount(body["quantity"], "quantity"),
        _amount(body["price"], "price"),
        _fees(body.get("fees")),
        _trade_date(body["date"], now or datetime.now(UTC)),
        _note(body.get("note")),
    )


def _amount(value: object, field: str) -> Decimal:
    """A positive number of at most 10 decimals. 400 for what is not of the documented form (text
    that is no number, a number <= 0); 422 for a number of that form that cannot be stored."""
    if isinstance(value, str):
        if not NUMBER_RE.fullmatch(value):
            raise ApiError(INVALID, f"{field} must be a number", field)
        value = value.replace(",", "")
    elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < MAX_PRICE:
        raise ApiError(INVALID, f"{field} must be a number greater than 0 and less than 1e14", field)
    try:
        amount = parse_price(value, field)
    except TickError as exc:
        raise ApiError(UNPROCESSABLE, str(exc), field) from None
    if -amount.as_tuple().exponent > TRADE_DECIMALS:  # type: ignore[operator]  # finite: checked above
        raise ApiError(UNPROCESSABLE, f"{field} has more than {TRADE_DECIMALS} decimals", field)
    return amount


def _fees(value: object) -> Decimal:
    """Fees may be left out or 0."""
    if value is None or value == "" or (isinstance(value, int | float) and not isinstance(value, bool) and value == 0):
        return Decimal(0)
    if isinstance(value, str) and NUMBER_RE.fullmatch(value) and Decimal(value.replace(",", "")) == 0:
        return Decimal(0)
    return _amount(value, "fees")


def _trade_date(value: object, now: datetime) -> datetime:
    """A day (2026-01-31, the start of it in UTC) or an ISO 8601 time with a timezone; not ahead."""
    if not isinstance(value, str) or not DATE_RE.fullmatch(value):
        message = "date must be a day (2026-01-31) or an ISO 8601 time with a timezone (2026-01-31T15:30:00Z)"
        raise ApiError(INVALID, message, "date")
    text = value.strip()
    try:
        traded = datetime.fromisoformat(text)
        traded = traded.replace(tzinfo=UTC) if traded.tzinfo is None else traded.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ApiError(UNPROCESSABLE, f"date {text!r} is not a time of the calendar", "date") from None
    if traded > now:
        raise ApiError(UNPROCESSABLE, "date must not be in the future", "date")
    if traded.year < 1900:
        raise ApiError(UNPROCESSABLE, "date must be in 1900 or later", "date")
    return traded
