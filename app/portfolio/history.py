"""The portfolio's value over a range, from the candles and the transactions (nothing stored twice).

At the end of each bucket of the range's grid (the prices' ladder, app/market/ranges.py): every
symbol's quantity held then (its transactions up to that moment) times its last close at or before
then, converted to BASE_CURRENCY at the FX symbol's last close then; ``cost`` likewise, the cost
of what was held (average cost). A symbol with no close yet at a bucket (its history starts later)
counts at its cost, so the line does not jump when its history begins. Decimals throughout.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.market.candles import ORIGIN
from app.market.ranges import Plan, Span, plan
from app.portfolio.positions import PRECISION, Position, Trade, apply, in_order
from app.portfolio.valuation import cents, currencies_of, inverse, rate_source

# The last close of each (symbol, bucket), and each symbol's last close before the range (a bucket
# without a candle, a weekend's for a stock, keeps the close before it).
_CLOSES = """
    SELECT symbol, date_bin(CAST(:bucket AS interval), bucket, {origin}) AS at,
           (array_agg(close ORDER BY bucket DESC))[1] AS close
    FROM {table} WHERE symbol = ANY(CAST(:symbols AS text[])) AND bucket >= :start AND bucket < :end
    GROUP BY 1, 2
    UNION ALL
    SELECT s.symbol, NULL, (SELECT close FROM {table} c WHERE c.symbol = s.symbol AND c.bucket < :start
                            ORDER BY c.bucket DESC LIMIT 1)
    FROM unnest(CAST(:symbols AS text[])) AS s(symbol)
"""


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def value_history(
    trades: Sequence[Trade], base: str, span: Span, now: datetime, raw_days: int, minute_days: int
) -> dict[str, Any]:
    """GET /api/portfolio/history: {t, value, cost} per bucket, oldest first, in ``base``."""
    if span.label == "all":
        first = min((t.at for t in trades), default=now)
        span = Span(first, now, span.label, span.max_points)
    elif span.start < EARLIEST:  # nothing is held before the first transaction (1900 at the earliest)
        span = Span(EARLIEST, span.end, span.label, span.max_points)
    chosen = plan(span, now, raw_days, minute_days) if span.start < span.end else Plan(60, "candles_1m")
    if chosen.source == "ticks":  # a value line needs no finer than minutes
        chosen = Plan(60, "candles_1m")
    symbols = sorted({t.symbol for t in trades})
    currencies = currencies_of(symbols)
    rates = {c: rate_source(c, base) for c in {currencies.get(s) or base for s in symbols}}
    pairs = [r[0] for r in rates.values() if r[0]]
    wanted = sorted({*symbols, *pairs, *(inverse(pair, base) for pair in pairs)})
    closes = _closes(chosen, wanted, span.start, span.end)
    step = timedelta(seconds=chosen.bucket_seconds)
    grid = _grid(chosen, span)
    held = {s: _Timeline(in_order(t for t in trades if t.symbol == s)) for s in symbols}
    points = []
    with localcontext(prec=PRECISION):
        for start in grid:  # in time order: each timeline only moves forward
            end = min(start + step, span.end)
            value = cost = Decimal(0)
            for symbol in symbols:
                position = held[symbol].at(end)
                if not position.quantity and not position.cost:
                    continue
                rate = _rate_at(*rates[currencies.get(symbol) or base], base, closes, start)
                if rate is None:
                    continue  # no rate stored yet: left out, as the live totals do
                price = _close_at(closes.get(symbol), start)
                value += (position.cost if price is None else position.quantity * price) * rate
                cost += position.cost * rate
            points.append({"t": start.isoformat(), "value": cents(value), "cost": cents(cost)})
    return {
        "base_currency": base,
        "range": span.label,
        "from": span.start.isoformat(),
        "to": span.end.isoformat(),
        "bucket_seconds": chosen.bucket_seconds,
        "source": chosen.source,
        "points": points,
    }


def _closes(chosen: Plan, symbols: Sequence[str], start: datetime, end: datetime) -> dict[str, tuple[list, list]]:
    """Per symbol: (bucket starts, closes) ascending, the close before the range first (at its start)."""
    query = text(_CLOSES.format(origin=ORIGIN, table=chosen.source))
    params = {"bucket": timedelta(seconds=chosen.bucket_seconds), "symbols": list(symbols), "start": start, "end": end}
    rows = sorted(
        ((r.symbol, r.at or start - timedelta(seconds=1), r.close) for r in db.session.execute(query, params)
         if r.close is not None),
        key=lambda r: (r[0], r[1]),
    )  # fmt: skip
    out: dict[str, tuple[list, list]] = {}
    for symbol, at, close in rows:
        times, values = out.setdefault(symbol, ([], []))
        times.append(at)
        values.append(close)
    return out


def _rate_at(pair: str | None, scale: Decimal, base: str, closes: dict, bucket: datetime) -> Decimal | None:
    """Units of ``base`` per unit at the bucket: the pair's close (EURUSD=X), else 1 / its inverse's
    (USDEUR=X), as the live totals read them; None before either has one."""
    if pair is None:
        return scale
    direct = _close_at(closes.get(pair), bucket)
    if direct is not None:
        return direct * scale
    other = _close_at(closes.get(inverse(pair, base)), bucket)
    return None if other is None else scale / other


def _close_at(series: tuple[list, list] | None, bucket: datetime) -> Decimal | None:
    """The last close at or before the bucket's own (None before the symbol's first)."""
    if series is None:
        return None
    index = bisect_right(series[0], bucket) - 1
    return series[1][index] if index >= 0 else None


class _Timeline:
    """A symbol's position after each of its transactions, read at moments that only move forward."""

    def __init__(self, trades: Sequence[Trade]) -> None:
        self.trades = trades
        self.next = 0
        self.position = Position(trades[0].symbol if trades else "")

    def at(self, moment: datetime) -> Position:
        """The position held just before ``moment`` (its transactions before then)."""
        while self.next < len(self.trades) and self.trades[self.next].at < moment:
            self.position = apply(self.position, self.trades[self.next])
            self.next += 1
        return self.position


def _grid(chosen: Plan, span: Span) -> list[datetime]:
    """The buckets' starts that the range touches, on the UTC grid the candles use."""
    step = timedelta(seconds=chosen.bucket_seconds)
    origin = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
    first = origin + step * ((span.start - origin) // step)
    grid = []
    at = first
    while at < span.end:
        grid.append(at)
        at += step
    return grid
