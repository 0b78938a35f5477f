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
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from app.market.hours import ALWAYS
from app.market.sources import CRYPTO_PAIR_RE, Listing, Quote, round_price

START_PRICES = {
    "BTC-USD": Decimal("95000"),
    "ETH-USD": Decimal("3500"),
    "DOGE-USD": Decimal("0.16"),
    "SOL-USD": Decimal("180"),
    "XRP-USD": Decimal("2.2"),
    "ADA-USD": Decimal("0.7"),
}
NAMES = {
    "BTC-USD": "Bitcoin USD",
    "ETH-USD": "Ethereum USD",
    "DOGE-USD": "Dogecoin USD",
    "SOL-USD": "Solana USD",
    "XRP-USD": "XRP USD",
    "ADA-USD": "Cardano USD",
}
SIMULATED_HOURS = "XNYS"  # a simulated stock keeps New York's hours: it rests when the market does
STEP_VOLATILITY = 0.0008  # standard deviation of one step's log-return
MEAN_REVERSION = 0.001  # pull per step back toward the start price, so a long run stays plausible


def start_price(symbol: str) -> Decimal:
    """A known symbol's realistic price, else a stable 10..510 from the symbol's hash."""
    if symbol in START_PRICES:
        return START_PRICES[symbol]
    digest = int(hashlib.sha256(symbol.encode()).hexdigest()[:8], 16)
    return Decimal(10 + digest % 500)


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
    ) -> None:
        self.seed = seed
        self.interval = interval_seconds
        self.state: WalkState = MemoryWalkState() if state is None else state
        self.last_known = last_known

    def describe(self, symbol: str) -> Listing:
        """Any symbol is accepted: its walk starts at ``start_price``. Pairs like BTC-USD are
        crypto priced in their second half; anything else a USD equity."""
        pair = CRYPTO_PAIR_RE.match(symbol)
        return Listing(
            symbol,
            name=NAMES.get(symbol),
            currency=pair.group(1) if pair else "USD",
            exchange="simulated",
            quote_type="CRYPTOCURRENCY" if pair else "EQUITY",
            calendar=ALWAYS if pair else SIMULATED_HOURS,
        )

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
            quotes.append(Quote(symbol, price, observed_at))
        if moved:
            self.state.set_many(moved)
        return quotes

    @staticmethod
    def _last(point: str | None, fallback: Decimal) -> tuple[int | None, Decimal]:
        if point is None:
            return None, fallback
        slot, _, price = point.partition(":")
        return int(slot), Decimal(price)
