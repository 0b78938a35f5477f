"""Live prices from Yahoo Finance through yfinance: one batched download for all symbols.

Never ``Ticker.info`` (Yahoo throttles it hardest). The whole call runs under a
hard deadline, and an empty answer is a failure, not "no prices".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from app.market.sources import Quote, SourceError, round_price
from app.pipeline.deadline import DeadlineExceeded, call_with_deadline

log = logging.getLogger(__name__)
BAR = timedelta(minutes=1)


def quotes_from_frame(frame: Any, symbols: Sequence[str], now: datetime) -> list[Quote]:
    """The last close of each symbol in a ``yf.download(group_by="ticker")`` frame.

    A 1-minute bar's close is the price at some moment inside [bar start, bar end),
    so the quote is stamped ``min(now, bar end)``: a live market gives a new time on
    every fetch, a closed one repeats the same tick, which the database dedupes.
    """
    quotes = []
    if frame is None or frame.empty:
        return quotes
    for symbol in symbols:
        if symbol not in frame.columns.get_level_values(0):
            continue
        closes = frame[symbol]["Close"].dropna()
        if closes.empty:
            continue
        close = float(closes.iloc[-1])
        if not math.isfinite(close) or close <= 0:
            continue
        bar_end = closes.index[-1].to_pydatetime() + BAR
        quotes.append(Quote(symbol, round_price(close), min(now, bar_end)))
    return quotes


class YahooSource:
    name = "yfinance"

    def __init__(self, *, timeout_seconds: float, session: Any = None) -> None:
        self.timeout = timeout_seconds
        self.session = session  # tests hand in a session that replays recorded responses

    def _download(self, symbols: Sequence[str]) -> Any:
        import yfinance as yf

        return yf.download(
            list(symbols),
            period="1d",
            interval="1m",
            group_by="ticker",
            auto_adjust=False,
            prepost=True,
            threads=True,
            progress=False,
            timeout=self.timeout,
            session=self.session,
            multi_level_index=True,
        )

    def fetch(self, symbols: Sequence[str], now: datetime) -> list[Quote]:
        try:
            frame = call_with_deadline(lambda: self._download(symbols), self.timeout, "Yahoo Finance")
        except DeadlineExceeded as exc:
            raise SourceError(str(exc)) from None
        quotes = quotes_from_frame(frame, symbols, now)
        if not quotes:
            raise SourceError(f"Yahoo Finance returned no prices for {', '.join(symbols)}")
        missing = set(symbols) - {q.symbol for q in quotes}
        if missing:
            log.warning("Yahoo Finance returned no price for %s", ", ".join(sorted(missing)))
        return quotes
