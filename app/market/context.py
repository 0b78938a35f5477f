"""The context a price needs, from the candles (backfilled or live): the day's open, high, low
and volume, the previous close, the 52-week range, and for crypto the last 24 hours' volume.

"The day" is the symbol's newest daily candle (UTC days): today for crypto, the last session for a
stock whose market is closed (a New York session lies within one UTC day). The previous close is
the close of the daily candle before it. One statement for every watched symbol.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.market.sources.routes import is_crypto

YEAR = timedelta(days=365)
_CONTEXT = text(
    """
    SELECT s.symbol, s.currency, s.quote_type, d.bucket AS day, d.open, d.high, d.low, d.volume AS day_volume,
           p.close AS previous_close, y.low AS year_low, y.high AS year_high, v.volume AS volume_24h
    FROM symbols s
    LEFT JOIN LATERAL (SELECT bucket, open, high, low, volume FROM candles_1d
                       WHERE symbol = s.symbol AND bucket <= :now ORDER BY bucket DESC LIMIT 1) d ON true
    LEFT JOIN LATERAL (SELECT close FROM candles_1d
                       WHERE symbol = s.symbol AND bucket < d.bucket ORDER BY bucket DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (SELECT min(low) AS low, max(high) AS high FROM candles_1d
                       WHERE symbol = s.symbol AND bucket > :year_ago AND bucket <= :now) y ON true
    LEFT JOIN LATERAL (SELECT sum(volume) AS volume FROM candles_1h
                       WHERE symbol = s.symbol AND bucket > :day_ago AND bucket <= :now) v ON true
    WHERE s.active ORDER BY s.position, s.symbol
    """
)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def market_context(now: datetime) -> list[dict[str, Any]]:
    """Each watched symbol's context; figures are null where no candle has them yet."""
    rows = db.session.execute(_CONTEXT, {"now": now, "year_ago": now - YEAR, "day_ago": now - timedelta(hours=24)})
    answer = []
    for row in rows:
        crypto = is_crypto(row.symbol, row.quote_type)
        answer.append(
            {
                "symbol": row.symbol,
                "currency": row.currency,
                "day": None if row.day is None else {
                    "date": row.day.date().isoformat(),
                    "open": float(row.open), "high": float(row.high), "low": float(row.low),
                },
                "previous_close": _number(row.previous_close),
                "year_range": None if row.year_low is None else {
                    "low": float(row.year_low), "high": float(row.year_high),
                },
                # crypto trades around the clock: its volume is the last 24 hours', a stock's its day's
                "volume": _number(row.volume_24h if crypto else row.day_volume),
                "volume_span": "24h" if crypto else "day",
            }
        )  # fmt: skip
    return answer
