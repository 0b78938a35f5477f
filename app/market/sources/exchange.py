"""Crypto prices from an exchange's public market data through ccxt: no account, no key.

Yahoo names a pair BTC-USD; an exchange names it BTC/USD, or has no USD market and quotes in a
dollar stablecoin (BTC/USDT on Binance). ``STAND_INS`` says which quote currencies may stand in
for Yahoo's, in order of preference: the first the exchange lists is used, and the tick's
``source`` names the exchange, so a USDT price is never passed off as Yahoo's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.market.hours import ALWAYS
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
    ranked,
    round_price,
)
from app.market.sources.names import NAMES
from app.pipeline.deadline import DeadlineExceeded, call_with_deadline

log = logging.getLogger(__name__)
MAX_PAGES = 20  # OHLCV pages asked for one chunk (an exchange pages by its own limit: Kraken 720)
STAND_INS: Mapping[str, tuple[str, ...]] = {"USD": ("USD", "USDT", "USDC"), "EUR": ("EUR", "EURC")}


class UnknownExchange(ValueError):
    """ccxt has no exchange of that id; the message names the setting's value."""


def pair_for(symbol: str, markets: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The exchange's market for Yahoo's ``BASE-QUOTE``, or None if it lists none that fits."""
    base, dash, quote = symbol.partition("-")
    if not dash or not base or not quote:
        return None
    for stand_in in STAND_INS.get(quote, (quote,)):
        pair = f"{base}/{stand_in}"
        market = markets.get(pair)
        if market is not None and market.get("spot", True) and market.get("active") is not False:
            return pair
    return None


def coin_name(symbol: str) -> str | None:
    """Yahoo's name of a well-known pair ("Bitcoin USD"), or its coin's ("Bitcoin" for BTC-EUR)."""
    base = symbol.rsplit("-", 1)[0]
    return NAMES.get(symbol) or NAMES.get(f"{base}-USD", "").removesuffix(" USD") or None


def exchange_class(exchange_id: str) -> Any:
    """ccxt's class for ``exchange_id``; UnknownExchange if ccxt has none (checked at start)."""
    import ccxt  # a second and a half to import: only where a setting asks for an exchange

    if exchange_id not in ccxt.exchanges:
        raise UnknownExchange(f"ccxt has no exchange {exchange_id!r} (see ccxt.exchanges: kraken, binance, ...)")
    return getattr(ccxt, exchange_id)


class ExchangeSource:
    def __init__(self, exchange_id: str, *, timeout_seconds: float, session: Any = None) -> None:
        self.name = f"ccxt:{exchange_id}"
        config: dict[str, Any] = {"timeout": int(timeout_seconds * 1000), "enableRateLimit": True}
        if session is not None:  # tests hand in a requests session that replays recorded answers
            config["session"] = session
        self.exchange = exchange_class(exchange_id)(config)
        self.timeout = timeout_seconds
        self.label = self.exchange.name  # "Kraken"
        self.unpriced: set[str] = set()  # symbols it has no market or price for, said once

    def _call(self, what: str, call: Any) -> Any:
        """One call to the exchange under a hard deadline, its errors in our terms."""
        import ccxt

        try:
            return call_with_deadline(call, self.timeout, self.label)
        except DeadlineExceeded as exc:
            raise SourceError(str(exc)) from None
        except (ccxt.RateLimitExceeded, ccxt.DDoSProtection) as exc:
            raise Throttled(f"{self.label} refused {what}: too many requests ({exc})") from None
        except ccxt.BaseError as exc:
            raise SourceError(f"{self.label} did not answer {what}: {type(exc).__name__} {exc}") from None

    def markets(self) -> Mapping[str, Mapping[str, Any]]:
        """The exchange's markets, asked once per process (ccxt keeps them)."""
        return self._call("its list of markets", self.exchange.load_markets)

    def pairs(self, symbols: Sequence[str]) -> dict[str, str]:
        """Exchange pair -> our symbol, for the symbols the exchange lists."""
        markets = self.markets()
        found = {symbol: pair_for(symbol, markets) for symbol in symbols}
        return {pair: symbol for symbol, pair in found.items() if pair is not None}

    def fetch(self, symbols: Sequence[str], now: datetime) -> list[Quote]:
        pairs = self.pairs(symbols)
        if not pairs:
            raise SourceError(f"{self.label} lists none of {', '.join(symbols)}")
        tickers = self._call("the prices", lambda: self.exchange.fetch_tickers(list(pairs)))
        quotes = []
        for pair, symbol in pairs.items():
            ticker = tickers.get(pair) or {}
            last = ticker.get("last")
            if last is None or not math.isfinite(float(last)) or float(last) <= 0:
                continue
            stamped = ticker.get("timestamp")  # Kraken gives none: the price is as of the answer
            observed = datetime.fromtimestamp(stamped / 1000, UTC) if stamped else now
            quotes.append(Quote(symbol, round_price(float(last)), min(now, observed)))
        if not quotes:
            raise SourceError(f"{self.label} returned no prices for {', '.join(pairs)}")
        missing = set(symbols) - {q.symbol for q in quotes} - self.unpriced
        if missing:  # said once per symbol: as a fallback it is asked every interval
            log.warning(
                "%s gave no price for %s (no such market there, or no trade): said once",
                self.label,
                ", ".join(sorted(missing)),
            )
            self.unpriced |= missing
        return quotes

    def history(self, symbol: str, interval: str, start: datetime, stop: datetime, known: Known) -> list[Bar]:
        """The exchange's OHLCV of the pair from ``start``, page after page until ``stop``. An
        exchange keeps what it keeps (Kraken: its last 720 bars of each interval): older spans
        come back empty."""
        pair = next(iter(self.pairs([symbol])), None)
        if pair is None:
            return []
        step, bars, since = timedelta(seconds=INTERVAL_SECONDS[interval]), [], int(start.timestamp() * 1000)
        for _ in range(MAX_PAGES):
            what = f"the {interval} history of {pair}"
            page = self._call(what, lambda since=since: self.exchange.fetch_ohlcv(pair, interval, since))
            fresh = [row for row in page or [] if row[0] >= since]
            for stamp, o, h, low, c, volume in (row[:6] for row in fresh):
                at = datetime.fromtimestamp(stamp / 1000, UTC)
                if at < start or at + step > stop or None in (o, h, low, c) or min(o, h, low, c) <= 0:
                    continue  # outside the chunk, still forming, or empty
                bars.append(Bar(at, at + step, round_price(float(o)), round_price(float(h)), round_price(float(low)),
                                round_price(float(c)), Decimal(str(volume or 0))))  # fmt: skip
            if not fresh or fresh[-1][0] + step.total_seconds() * 1000 >= stop.timestamp() * 1000:
                return bars
            since = int(fresh[-1][0] + step.total_seconds() * 1000)
        return bars

    def search(self, query: str, limit: int) -> list[Match]:
        """The pairs it lists in USD or EUR (or their stand-ins), as Yahoo names them (BTC-USD),
        matched on the coin's code and, for well-known coins, its name ("bitcoin")."""
        markets = self.markets()
        bases = {market["base"] for market in markets.values() if market.get("spot", True)}
        offered = [f"{base}-{quote}" for base in sorted(bases) for quote in STAND_INS]
        listed = [symbol for symbol in offered if pair_for(symbol, markets) is not None]
        return ranked(query, [Match(s, coin_name(s), self.label, "CRYPTOCURRENCY") for s in listed], limit)

    def describe(self, symbol: str) -> Listing:
        """The exchange's market for the symbol, from its list of markets (no price call)."""
        markets = self.markets()
        pair = pair_for(symbol, markets)
        if pair is None:
            base, _, quote = symbol.partition("-")
            tried = " or ".join(f"{base}/{q}" for q in STAND_INS.get(quote, (quote,)))
            raise UnknownSymbol(f"{self.label} has no {tried} market")
        market = markets[pair]
        return Listing(symbol, name=f"{market['base']}/{market['quote']}", currency=market["quote"],
                       exchange=self.label, quote_type="CRYPTOCURRENCY", calendar=ALWAYS)  # fmt: skip
