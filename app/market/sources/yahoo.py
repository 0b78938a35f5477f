"""Live prices from Yahoo Finance through yfinance: one batched download for all symbols.

Never ``Ticker.info`` (Yahoo throttles it hardest). The whole call runs under a
hard deadline, and an empty answer is a failure, not "no prices".
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from app.market.hours import calendar_for
from app.market.sources import (
    INTERVAL_SECONDS,
    Bar,
    Known,
    Listing,
    Match,
    Quote,
    SourceError,
    Throttled,
    UnknownSymbol,
    round_price,
)
from app.pipeline.deadline import DeadlineExceeded, call_with_deadline

log = logging.getLogger(__name__)


class VolumeState(Protocol):
    """Where each symbol's last seen day volume lives ("day:total"), read and written in bulk."""

    def get_many(self, symbols: Sequence[str]) -> dict[str, str]: ...

    def set_many(self, points: Mapping[str, str]) -> None: ...


BAR = timedelta(minutes=1)
METADATA_KEYS = (
    "longName", "shortName", "currency", "fullExchangeName", "exchangeName", "instrumentType", "priceHint",
)  # fmt: skip
# Yahoo may correct a closing price for a few minutes after the close (the closing auction):
# a closed market is asked this long after its close, then not until it opens.
CLOSE_SETTLE = timedelta(minutes=15)


def quotes_from_frame(
    frame: Any, symbols: Sequence[str], now: datetime, traded: VolumeState | None = None
) -> list[Quote]:
    """The last close of each symbol in a ``yf.download(group_by="ticker")`` frame.

    A 1-minute bar's close is the price at some moment inside [bar start, bar end),
    so the quote is stamped ``min(now, bar end)``: a live market gives a new time on
    every fetch, a closed one repeats the same tick, which the database dedupes.

    Its volume is what was traded since the previous fetch: the frame's bars add up to the day's
    volume so far, and ``traded`` keeps the last such total per symbol (shared by every worker
    process). The first fetch of a symbol, or after the total went back (a correction), carries
    none: nothing is counted that the previous figure may have counted.
    """
    quotes = []
    totals: dict[str, tuple[str, float]] = {}
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
        volumes = frame[symbol].get("Volume")
        if volumes is not None:
            totals[symbol] = (closes.index[-1].date().isoformat(), float(volumes.fillna(0).sum()))
        quotes.append(Quote(symbol, round_price(close), min(now, bar_end)))
    if traded is None or not totals:
        return quotes
    before = traded.get_many(list(totals))
    traded.set_many({symbol: f"{day}:{total:.0f}" for symbol, (day, total) in totals.items()})
    return [q._replace(volume=_since(before.get(q.symbol), totals.get(q.symbol))) for q in quotes]


def _since(before: str | None, now: tuple[str, float] | None) -> Decimal | None:
    """Traded between two of the day's running totals ("day:total"); a new day starts from 0."""
    if now is None or before is None:
        return None
    day, _, total = before.partition(":")
    if day != now[0]:
        return Decimal(int(now[1]))
    moved = now[1] - float(total)
    return Decimal(int(moved)) if moved >= 0 else None


def bars_from_frame(frame: Any, interval: str, start: datetime, stop: datetime) -> list[Bar]:
    """The complete bars of a ``Ticker.history`` frame that start in [start, stop). A daily bar
    is stamped with its trading date at UTC midnight (Yahoo stamps it at the exchange's local
    midnight, which is the day before in UTC east of Greenwich)."""
    if frame is None or frame.empty:
        return []
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    bars = []
    for stamp, row in frame.iterrows():
        at = stamp.to_pydatetime()
        if interval == "1d":
            at = datetime(at.year, at.month, at.day, tzinfo=UTC)
        at = at.astimezone(UTC)
        prices = [float(row[name]) for name in ("Open", "High", "Low", "Close")]
        if not start <= at < stop or at + step > stop or not all(math.isfinite(p) and p > 0 for p in prices):
            continue  # outside the chunk, still forming, or a row Yahoo left empty
        volume = float(row.get("Volume", 0) or 0)
        o, h, low, c = (round_price(p) for p in prices)
        traded = Decimal(int(volume)) if math.isfinite(volume) and volume > 0 else Decimal(0)
        bars.append(Bar(at, at + step, o, max(h, o, c), min(low, o, c), c, traded))
    return bars


class CountsThrottling:
    """Mixed into the HTTP session handed to yfinance: counts 429 (too many requests) and 404 (no
    such symbol) answers, which a batched download turns into quiet per-symbol errors."""

    throttled = 0
    not_found = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:
        response = super().request(*args, **kwargs)  # type: ignore[misc]
        if response.status_code == 429:
            self.throttled += 1
        elif response.status_code == 404:
            self.not_found += 1
        return response


def counting_session() -> Any:
    """The session yfinance would make for itself (curl_cffi, as Chrome), counting 429s."""
    from curl_cffi.requests import Session

    class CountingSession(CountsThrottling, Session):  # type: ignore[misc]
        pass

    return CountingSession(impersonate="chrome")


class YahooSource:
    name = "yfinance"
    close_settle = CLOSE_SETTLE

    def __init__(self, *, timeout_seconds: float, session: Any = None, traded: VolumeState | None = None) -> None:
        self.timeout = timeout_seconds
        self.traded = traded  # each symbol's day volume at the last fetch (quotes_from_frame)
        # Tests hand in a session that replays recorded responses (and counts 429s too).
        self.session = session if session is not None else counting_session()

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
        before = getattr(self.session, "throttled", 0), getattr(self.session, "not_found", 0)
        try:
            frame = call_with_deadline(lambda: self._download(symbols), self.timeout, "Yahoo Finance")
        except DeadlineExceeded as exc:
            raise SourceError(str(exc)) from None
        refused = getattr(self.session, "throttled", 0) - before[0]
        unknown = getattr(self.session, "not_found", 0) - before[1]
        quotes = quotes_from_frame(frame, symbols, now, self.traded)
        if not quotes and refused:
            raise Throttled(f"Yahoo Finance answered 429 Too Many Requests ({refused}x)")
        if not quotes and unknown >= len(symbols):
            raise SourceError(f"Yahoo Finance knows none of {', '.join(symbols)} (404)")
        if not quotes:
            raise Throttled(
                f"Yahoo Finance returned no prices for {', '.join(symbols)} (it answers empty when it throttles)"
            )
        missing = set(symbols) - {q.symbol for q in quotes}
        if missing:
            why = f" ({refused} requests refused with 429)" if refused else ""
            log.warning("Yahoo Finance returned no price for %s%s", ", ".join(sorted(missing)), why)
        return quotes

    def describe(self, symbol: str) -> Listing:
        """One chart call for the symbol: its metadata names it, an empty answer means Yahoo has
        no such symbol (its reason is kept, e.g. "No data found, symbol may be delisted")."""
        try:
            meta = call_with_deadline(lambda: self._chart_metadata(symbol), self.timeout, "Yahoo Finance")
        except DeadlineExceeded as exc:
            raise SourceError(str(exc)) from None
        return Listing(
            symbol,
            name=meta.get("longName") or meta.get("shortName"),
            currency=meta.get("currency"),
            exchange=meta.get("fullExchangeName") or meta.get("exchangeName"),
            quote_type=meta.get("instrumentType"),
            calendar=calendar_for(meta.get("exchangeName"), meta.get("instrumentType")),
            price_hint=meta.get("priceHint"),
        )

    def search(self, query: str, limit: int) -> list[Match]:
        """Yahoo's own search (yfinance's Search: what its search box suggests), quotes only."""
        try:
            quotes = call_with_deadline(lambda: self._search_quotes(query, limit), self.timeout, "Yahoo Finance")
        except DeadlineExceeded as exc:
            raise SourceError(str(exc)) from None
        return [
            Match(
                q["symbol"],
                q.get("longname") or q.get("shortname"),
                q.get("exchDisp") or q.get("exchange"),
                q.get("quoteType"),
            )  # fmt: skip
            for q in quotes
            if isinstance(q, dict) and q.get("symbol")
        ][:limit]

    def _search_quotes(self, query: str, limit: int) -> list[Any]:
        import yfinance as yf
        from yfinance.data import YfData
        from yfinance.exceptions import YFRateLimitError

        # yfinance keeps every search answer for the life of the process (an lru_cache on its
        # shared YfData); ours in Redis decides how long an answer holds, so ask Yahoo each time.
        YfData.cache_get.cache_clear()
        try:
            found = yf.Search(
                query, max_results=limit, news_count=0, lists_count=0, include_cb=False, session=self.session,
                timeout=self.timeout, raise_errors=True,
            )  # fmt: skip
        except YFRateLimitError as exc:
            raise Throttled(f"Yahoo Finance refused the search: {exc}") from None
        except Exception as exc:
            raise SourceError(f"Yahoo Finance did not answer the search: {exc}") from None
        return list(found.quotes)

    def history(self, symbol: str, interval: str, start: datetime, stop: datetime, known: Known) -> list[Bar]:
        """One chart call for the bars of [start, stop): regular hours, prices as traded (not
        adjusted for later splits and dividends, like the live ticks they join)."""
        try:
            frame = call_with_deadline(
                lambda: self._history_frame(symbol, interval, start, stop), self.timeout * 3, "Yahoo Finance"
            )
        except DeadlineExceeded as exc:
            raise SourceError(str(exc)) from None
        return bars_from_frame(frame, interval, start, stop)

    def _history_frame(self, symbol: str, interval: str, start: datetime, stop: datetime) -> Any:
        import yfinance as yf
        from yfinance.exceptions import YFPricesMissingError, YFRateLimitError, YFTickerMissingError

        ticker = yf.Ticker(symbol, session=self.session)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # raise_errors: see _chart_metadata
                return ticker.history(
                    start=start, end=stop, interval=interval, prepost=False, auto_adjust=False, actions=False,
                    raise_errors=True,
                )  # fmt: skip
        except (YFPricesMissingError, YFTickerMissingError):
            return None  # no bars in that span (before the listing, or older than Yahoo keeps)
        except YFRateLimitError as exc:
            raise Throttled(f"Yahoo Finance refused the history of {symbol}: {exc}") from None
        except Exception as exc:
            raise SourceError(f"Yahoo Finance did not answer the history of {symbol}: {exc}") from None

    def _chart_metadata(self, symbol: str) -> dict[str, Any]:
        import yfinance as yf
        from yfinance.exceptions import YFPricesMissingError, YFTickerMissingError

        ticker = yf.Ticker(symbol, session=self.session)
        try:
            with warnings.catch_warnings():
                # raise_errors is deprecated for a process-wide switch (yf.config); we want the
                # reason for this one call only, without changing how the batched fetch behaves.
                warnings.simplefilter("ignore", DeprecationWarning)
                frame = ticker.history(period="1d", interval="1m", prepost=True, auto_adjust=False, raise_errors=True)
        except (YFPricesMissingError, YFTickerMissingError) as exc:
            raise UnknownSymbol(f"Yahoo Finance: {str(exc).removeprefix(f'${symbol}: ')}") from None
        except Exception as exc:  # network, throttling: not an answer about the symbol
            raise SourceError(f"Yahoo Finance did not answer for {symbol}: {exc}") from None
        if frame is None or frame.empty:
            raise UnknownSymbol(f"Yahoo Finance has no prices for {symbol}")
        meta = ticker.history_metadata or {}
        return {key: meta.get(key) for key in METADATA_KEYS}  # a lazy mapping: read only what we use
