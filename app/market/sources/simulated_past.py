"""A plausible past for a simulated symbol: bars walked backwards from its first live price.

Each interval's slice (app/market/backfill_plan.py) is walked back from where the finer one
begins, so minutes, hours and days join without a jump; bars fall only where the symbol's market
trades (its exchange calendar; days of a calendar market on weekdays). The walk is seeded by the
symbol and ``until``, so every chunk of one backfill, and a re-run, draw the very same past.
Volatility and drift are of the symbol's kind, per year: crypto moves most, currencies least.
"""

from __future__ import annotations

import functools
import hashlib
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.market.backfill_plan import segments
from app.market.hours import ALWAYS
from app.market.sources import INTERVAL_SECONDS, Bar, Known, round_price

YEAR_SECONDS = 365 * 86_400
# kind -> (volatility a year, drift a year, money traded a minute of trading)
KINDS = {
    "CRYPTOCURRENCY": (0.60, 0.20, 2_000_000.0),
    "EQUITY": (0.25, 0.08, 1_000_000.0),
    "INDEX": (0.18, 0.07, 50_000_000.0),
    "CURRENCY": (0.08, 0.0, 0.0),  # Yahoo gives currency pairs no volume
}
TRADING_MINUTES = {"1m": 1, "1h": 60}  # a 1d bar: the session's minutes (below)


def _starts(interval: str, start: datetime, stop: datetime, calendar: str | None) -> list[datetime]:
    """Bar starts in [start, stop) when the market trades."""
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    if calendar in (None, ALWAYS) or interval == "1d":
        every = []
        at = start
        while at < stop:
            if calendar in (None, ALWAYS) or at.weekday() < 5:
                every.append(at)
            at += step
        return every
    from app.market.hours import _calendar, _quiet_pandas

    cal = _calendar(calendar)
    with _quiet_pandas():
        first = max(start, cal.first_minute.to_pydatetime())
        if first >= stop:
            return []
        minutes = cal.minutes_in_range(first, stop - timedelta(minutes=1))
    if interval == "1h":
        minutes = minutes.floor("h").unique()
    return [m.to_pydatetime().astimezone(UTC) for m in minutes]


def _walk(rng: Any, starts: list[datetime], interval: str, anchor: float, kind: str) -> tuple[list[Bar], float]:
    """Bars at ``starts`` whose last close is ``anchor``; returns them and the first open."""
    import numpy as np

    volatility, drift, traded = KINDS.get(kind, KINDS["EQUITY"])
    seconds = INTERVAL_SECONDS[interval]
    sigma = volatility * math.sqrt(seconds / YEAR_SECONDS)
    n = len(starts)
    if n == 0:
        return [], anchor
    moves = rng.normal(drift * seconds / YEAR_SECONDS, sigma, n)[::-1]  # newest bar first
    closes = np.empty(n)
    closes[0] = math.log(anchor)
    opens = closes[0] - np.cumsum(moves)
    closes[1:] = opens[:-1]
    opens, closes = np.exp(opens[::-1]), np.exp(closes[::-1])  # oldest first
    reach = np.exp(np.abs(rng.normal(0, sigma / 2, (2, n))))
    highs, lows = np.maximum(opens, closes) * reach[0], np.minimum(opens, closes) / reach[1]
    minutes = TRADING_MINUTES.get(interval, 1440 if kind == "CRYPTOCURRENCY" else 390)
    volumes = traded * minutes / np.sqrt(opens * closes) * rng.lognormal(0, 0.5, n)
    step = timedelta(seconds=seconds)
    opens, highs, lows, closes, volumes = (a.tolist() for a in (opens, highs, lows, closes, volumes))  # floats
    bars = [
        Bar(at, at + step, round_price(o), round_price(h), round_price(lo), round_price(c),
            Decimal(int(v)) if kind != "CRYPTOCURRENCY" else Decimal(f"{v:.4f}"))
        for at, o, h, lo, c, v in zip(starts, opens, highs, lows, closes, volumes, strict=True)
    ]  # fmt: skip
    return bars, float(opens[0])


@functools.lru_cache(maxsize=16)
def past(seed: int, symbol: str, kind: str, known: Known, years: int) -> dict[str, list[Bar]]:
    """Every bar of the symbol's simulated past, by interval (made once per backfill)."""
    import numpy as np

    from app.market.sources.simulated import start_price

    digest = hashlib.sha256(f"{seed}:{symbol}:{known.until.isoformat()}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    edge = segments(known.until, years)
    anchor = float(known.first_price or start_price(symbol))
    bars: dict[str, list[Bar]] = {}
    for interval, start, stop in (
        ("1m", edge.minutes, edge.until),
        ("1h", edge.hours, edge.minutes),
        ("1d", edge.days, edge.hours),
    ):
        starts = [at for at in _starts(interval, start, stop, known.calendar) if at + timedelta(
            seconds=INTERVAL_SECONDS[interval]) <= stop]  # fmt: skip
        bars[interval], anchor = _walk(rng, starts, interval, anchor, kind)
    return bars
