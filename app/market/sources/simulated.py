"""Simulated prices: a seeded random walk from realistic starting prices, for offline use.

Every tick it makes says ``source: simulated`` and the page labels it so.
The walk's last point per symbol lives in ``state`` (a Redis hash in the worker)
so that every worker process continues the same walk, and a second fetch in the
same time slot returns the very same tick, which the database then deduplicates.
A symbol missing from ``state`` (a new one, or the embedded Redis restarted empty) continues
from its last stored price (``last_known``, PostgreSQL): a restart makes no false jump that
would fire alerts real prices would not.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple, Protocol

from app.market.hours import ALWAYS
from app.market.sources import CRYPTO_PAIR_RE, Bar, Known, Listing, Match, Quote, ranked, round_price
from app.market.sources.names import NAMES

START_PRICES = {
    "BTC-USD": Decimal("95000"),
    "ETH-USD": Decimal("3500"),
    "DOGE-USD": Decimal("0.16"),
    "SOL-USD": Decimal("180"),
    "XRP-USD": Decimal("2.2"),
    "ADA-USD": Decimal("0.7"),
    # currency pairs, as Yahoo names them (EURUSD=X: dollars per euro; JPY=X: yen per dollar)
    "EURUSD=X": Decimal("1.08"),
    "GBPUSD=X": Decimal("1.27"),
    "AUDUSD=X": Decimal("0.66"),
    "USDCHF=X": Decimal("0.88"),
    "EURGBP=X": Decimal("0.85"),
    "JPY=X": Decimal("150"),
    "USDJPY=X": Decimal("150"),
    "CAD=X": Decimal("1.36"),
    # indices
    "^GSPC": Decimal("6000"),
    "^DJI": Decimal("44000"),
    "^IXIC": Decimal("19500"),
    "^RUT": Decimal("2300"),
    "^FTSE": Decimal("8300"),
    "^GDAXI": Decimal("19500"),
    "^N225": Decimal("39000"),
}
SIMULATED_HOURS = "XNYS"  # a simulated stock keeps New York's hours: it rests when the market does
INDEX_HOURS = {"^FTSE": "XLON", "^GDAXI": "XETR", "^N225": "XTKS"}  # else New York's
FX_PAIR_RE = re.compile(r"^(?:([A-Z]{3})([A-Z]{3})|([A-Z]{3}))=X$")  # EURUSD=X, or JPY=X (USD/JPY)
CURRENCY_HOURS = "24/5"  # currencies trade round the clock, Monday to Friday


class Kind(NamedTuple):
    """What a simulated symbol stands for, as Yahoo would describe it."""

    quote_type: str
    currency: str
    calendar: str
    price_hint: int | None  # decimals Yahoo quotes it in; crypto by magnitude (None)
    low: int  # where an unknown one of this kind starts: low .. high, from the symbol's hash
    high: int


def kind(symbol: str) -> Kind:
    """Crypto pairs (BTC-USD), currency pairs (EURUSD=X), indices (^GSPC), else a USD stock."""
    if pair := CRYPTO_PAIR_RE.match(symbol):
        return Kind("CRYPTOCURRENCY", pair.group(1), ALWAYS, None, 10, 510)
    if fx := FX_PAIR_RE.match(symbol):
        quote = fx.group(2) or fx.group(3)
        return Kind("CURRENCY", quote, CURRENCY_HOURS, 3 if quote == "JPY" else 4, 1, 2)
    if symbol.startswith("^"):
        return Kind("INDEX", "USD", INDEX_HOURS.get(symbol, SIMULATED_HOURS), 2, 1000, 20000)
    return Kind("EQUITY", "USD", SIMULATED_HOURS, 2, 10, 510)


STEP_VOLATILITY = 0.0008  # standard deviation of one step's log-return
MEAN_REVERSION = 0.001  # pull per step back toward the start price, so a long run stays plausible


def start_price(symbol: str) -> Decimal:
    """A known symbol's realistic price, else a stable one of its kind's level from the symbol's
    hash: a stock 10..510, an index 1,000..20,000, a currency pair 1..2."""
    if symbol in START_PRICES:
        return START_PRICES[symbol]
    digest = int(hashlib.sha256(symbol.encode()).hexdigest()[:8], 16)
    what = kind(symbol)
    if what.high - what.low < 10:  # currency pairs: two decimals of variety
        return Decimal(what.low * 100 + digest % ((what.high - what.low) * 100)) / 100
    return Decimal(what.low + digest % (what.high - what.low))


def slot_volume(seed: int, symbol: str, slot: int, price: Decimal, seconds: float) -> Decimal | None:
    """What was traded in one slot of the walk (None for a currency pair: Yahoo gives none)."""
    from app.market.sources.simulated_past import KINDS

    what = kind(symbol)
    traded = KINDS.get(what.quote_type, KINDS["EQUITY"])[2] * seconds / 60
    if not traded:
        return None
    amount = traded / float(price) * random.Random(f"{seed}:{symbol}:{slot}:volume").lognormvariate(0, 0.5)  # noqa: S311
    return Decimal(f"{amount:.4f}") if what.quote_type == "CRYPTOCURRENCY" else Decimal(int(amount))


def next_price(seed: int, symbol: str, slot: int, last: Decimal) -> Decimal:
    """One step of the walk; the same (seed, symbol, slot, last) always gives the same price."""
    rng = random.Random(f"{seed}:{symbol}:{slot}")
    drift = MEAN_REVERSION * math.log(float(start_price(symbol)) / float(last))
    return round_price(float(last) * math.exp(drift + rng.gauss(0.0, STEP_VOLATILITY)))


LastKnown = Callable[[Sequence[str]], Mapping[str, Decimal]]


class WalkState(Protocol):
    """Where the walk's last point per symbol lives ("slot:price"), read and written in bulk:
    one round trip each way per fetch, however many symbols (a Redis hash in the worker)."""

    def get_many(self, symbols: Sequence[str]) -> dict[str, str]: ...

    def set_many(self, points: Mapping[str, str]) -> None: ...


class MemoryWalkState(dict[str, str]):
    """A walk kept in this process only (tests, one-off tools)."""

    def get_many(self, symbols: Sequence[str]) -> dict[str, str]:
        return {s: self[s] for s in symbols if s in self}

    def set_many(self, points: Mapping[str, str]) -> None:
        self.update(points)


class SimulatedSource:
    name = "simulated"

    def __init__(
        self,
        *,
        seed: int,
        interval_seconds: float,
        state: WalkState | None = None,
        last_known: LastKnown = lambda symbols: {},
        years: int = 20,
    ) -> None:
        self.seed = seed
        self.years = years  # how far back its past goes
        self.interval = interval_seconds
        self.state: WalkState = MemoryWalkState() if state is None else state
        self.last_known = last_known

    def describe(self, symbol: str) -> Listing:
        """Any symbol is accepted: its walk starts at ``start_price``. Pairs like BTC-USD are
        crypto priced in their second half, EURUSD=X a currency pair (24/5), ^GSPC an index;
        anything else a USD equity."""
        what = kind(symbol)
        return Listing(
            symbol,
            name=NAMES.get(symbol),
            currency=what.currency,
            exchange="simulated",
            quote_type=what.quote_type,
            calendar=what.calendar,
            price_hint=what.price_hint,
        )

    def search(self, query: str, limit: int) -> list[Match]:
        """From the symbols it knows by name (NAMES): offline, a search has nothing else to go by."""
        known = [Match(s, name, "simulated", kind(s).quote_type) for s, name in NAMES.items()]
        return ranked(query, known, limit)

    def history(self, symbol: str, interval: str, start: datetime, stop: datetime, known: Known) -> list[Bar]:
        """A walk back from the symbol's first live price (app/market/sources/simulated_past.py)."""
        from app.market.sources.simulated_past import past

        bars = past(self.seed, symbol, kind(symbol).quote_type, known, self.years)[interval]
        return [bar for bar in bars if start <= bar.start < stop]

    def fetch(self, symbols: Sequence[str], now: datetime) -> list[Quote]:
        slot = math.floor(now.timestamp() / self.interval)
        observed_at = datetime.fromtimestamp(slot * self.interval, UTC)
        points = self.state.get_many(symbols)
        missing = [s for s in symbols if s not in points]
        stored = self.last_known(missing) if missing else {}
        quotes, moved = [], {}
        for symbol in symbols:
            last_slot, last_price = self._last(points.get(symbol), stored.get(symbol) or start_price(symbol))
            if last_slot == slot:
                price = last_price  # this slot was already fetched: same tick again
            else:
                price = next_price(self.seed, symbol, slot, last_price)
                moved[symbol] = f"{slot}:{price}"
            quotes.append(Quote(symbol, price, observed_at, slot_volume(self.seed, symbol, slot, price, self.interval)))
        if moved:
            self.state.set_many(moved)
        return quotes

    @staticmethod
    def _last(point: str | None, fallback: Decimal) -> tuple[int | None, Decimal]:
        if point is None:
            return None, fallback
        slot, _, price = point.partition(":")
        return int(slot), Decimal(price)
