"""Validation of API input: plain functions, testable without servers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.errors import ApiError
from app.models import DIRECTIONS
from app.ticks import TickError, parse_price
from config.settings import SYMBOL_RE


def normalise_symbol(value: object, field: str = "symbol") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{field} must be a non-empty string", field)
    symbol = value.strip().upper()
    if not SYMBOL_RE.match(symbol):
        raise ApiError(400, f"{field} {value!r} is not a valid symbol", field)
    return symbol


def parse_alert(body: Any) -> tuple[str, str, Decimal]:
    """(symbol, direction, threshold) from a POST /api/alerts body, or ApiError naming the field."""
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object with symbol, direction and threshold")
    for name in ("symbol", "direction", "threshold"):
        if body.get(name) is None:
            raise ApiError(400, f"{name} is required", name)
    symbol = normalise_symbol(body["symbol"])
    direction = body["direction"]
    if direction not in DIRECTIONS:
        raise ApiError(400, f"direction must be one of {', '.join(DIRECTIONS)}", "direction")
    try:
        threshold = parse_price(body["threshold"], "threshold")
    except TickError as exc:
        raise ApiError(400, str(exc), "threshold") from None
    return symbol, direction, threshold


def parse_points(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise ApiError(400, "points must be a whole number from 1 to 10000", "points")
    return int(raw)
