"""Price sources: where ticks come from. PRICE_SOURCE picks one (see ``select_source``)."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from app.market.sources.simulated import WalkState
    from app.market.sources.yahoo import VolumeState

log = logging.getLogger(__name__)
SIGNIFICANT_DIGITS = 7
CRYPTO_PAIR_RE = re.compile(r"^[A-Z0-9]+-([A-Z]{3})$")  # Yahoo's crypto form: BTC-USD, ETH-EUR


class Quote(NamedTuple):
    symbol: str
    price: Decimal
    observed_at: datetime
    volume: Decimal | None = None  # traded since the source's previous figure, where it says


class Bar(NamedTuple):
    """One bar of a source's history: prices from ``start`` to just before ``stop``."""

    start: datetime
    stop: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # 0 where the source gives none


INTERVAL_SECONDS = {"1m": 60, "1h": 3600, "1d": 86_400}


class Known(NamedTuple):
    """What is stored of a symbol whose past is asked for: its trading hours, when this install
    began to see it live (``until``), and its first price from then (the simulator walks back
    from it; None if there is none yet)."""

    calendar: str | None
    until: datetime
    first_price: Decimal | None


class Listing(NamedTuple):
    """What a source says a symbol is, from the one call that checks it before it is watched."""

    symbol: str
    name: str | None
    currency: str | None
    exchange: str | None
    quote_type: str | None
    calendar: str | None = None  # its trading hours (app/market/hours.py), None if not known
    price_hint: int | None = None  # decimals it is quoted in (2 for a stock), None if not known


class Match(NamedTuple):
    """A symbol a source offers for a search ("apple": AAPL, Apple Inc., NASDAQ, EQUITY)."""

    symbol: str
    name: str | None
    exchange: str | None
    quote_type: str | None


class SourceError(RuntimeError):
    """The source gave no usable prices this time (network, throttling, empty answer)."""


class Throttled(SourceError):
    """The source refused us for asking too often (HTTP 429), or answered empty as it does when
    it throttles: it rests before the next try (app/market/sources/backoff.py)."""


class UnknownSymbol(ValueError):
    """The source answered, and has no such symbol; the message is its reason."""


class PriceSource(Protocol):
    name: str

    def fetch(self, symbols: Sequence[str], now: datetime) -> list[Quote]:
        """The latest quote of each symbol it has, in one batched call; SourceError if none."""
        ...

    def describe(self, symbol: str) -> Listing:
        """What the source knows of one symbol, in one call; UnknownSymbol if it has none,
        SourceError if it could not be asked."""
        ...

    def history(self, symbol: str, interval: str, start: datetime, stop: datetime, known: Known) -> list[Bar]:
        """The symbol's complete bars of ``interval`` (1m, 1h, 1d) starting within [start, stop),
        oldest first; [] where the source keeps none; Throttled / SourceError as ``fetch``."""
        ...

    def search(self, query: str, limit: int) -> list[Match]:
        """Symbols whose code or name match ``query``, best first, at most ``limit``; SourceError
        (Throttled) if it could not be asked."""
        ...


def ranked(query: str, candidates: Sequence[Match], limit: int) -> list[Match]:
    """The candidates that match ``query``, best first: the symbol itself, symbols that begin
    with it, names that begin with it, names with a word that does, then names or symbols
    holding it anywhere; shorter symbols first within each.
    For sources with a list of their own to search (the simulator's, an exchange's markets)."""
    words = query.strip().lower()
    if not words:
        return []

    def rank(match: Match) -> int | None:
        symbol, name = match.symbol.lower(), (match.name or "").lower()
        if symbol == words or symbol.split("-")[0] == words:
            return 0
        if symbol.startswith(words):
            return 1
        if name.startswith(words):
            return 2
        if any(word.startswith(words) for word in re.split(r"[^a-z0-9&]+", name)):
            return 3
        if words in name or words in symbol:
            return 4
        return None

    scored = [((r, len(m.symbol), m.symbol), m) for m in candidates if (r := rank(m)) is not None]
    return [m for _, m in sorted(scored, key=lambda pair: pair[0])][:limit]


def round_price(price: float) -> Decimal:
    """Keep SIGNIFICANT_DIGITS digits, at least 2 decimals: BTC in cents, DOGE in millionths."""
    decimals = max(2, SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(price)))
    return Decimal(repr(price)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def select_source(
    name: str,
    *,
    seed: int,
    interval_seconds: float,
    yfinance_timeout: float,
    simulator_state: WalkState,
    last_known: Callable[[Sequence[str]], Mapping[str, Decimal]],
    probe_symbols: Sequence[str],
    history_years: int = 20,
    traded_state: VolumeState | None = None,
    decide_once: Callable[[Callable[[], str]], str] = lambda decide: decide(),
) -> PriceSource:
    """The source PRICE_SOURCE names. For ``auto``: yfinance if it answers now, else the
    simulator; ``decide_once`` makes every process of the stack share the first answer."""
    from app.market.sources.simulated import SimulatedSource
    from app.market.sources.yahoo import YahooSource

    sources: dict[str, PriceSource] = {
        "simulated": SimulatedSource(
            seed=seed,
            interval_seconds=interval_seconds,
            state=simulator_state,
            last_known=last_known,
            years=history_years,
        ),
        "yfinance": YahooSource(timeout_seconds=yfinance_timeout, traded=traded_state),
    }

    def probe() -> str:
        try:
            sources["yfinance"].fetch(probe_symbols[:1], datetime.now().astimezone())
        except Exception as exc:
            log.warning("PRICE_SOURCE=auto: Yahoo Finance did not answer (%s); using SIMULATED prices", exc)
            return "simulated"
        log.info("PRICE_SOURCE=auto: Yahoo Finance answered; using live prices")
        return "yfinance"

    return sources[decide_once(probe) if name == "auto" else name]
