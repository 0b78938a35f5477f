"""What a page asked to see, and the compact price frame it gets.

A page says which symbols it shows (``live``: every price, at every fetch) and which others it
keeps (``slow``: the newest price of each that changed, every SLOW_SECONDS):

    {"type": "subscribe", "live": ["BTC-USD", "ETH-USD"], "slow": ["DOGE-USD"]}

A socket that never subscribes (a script, an older page) gets every price of every fetch in the
frame it always had ({"type": "prices", "prices": [{symbol, price, observed_at, ...}]}).

A subscriber gets prices as {"type": "ticks", "sources": [...], "ticks": [[symbol, price,
observed_at in epoch ms, received_at - observed_at in ms, index in sources], ...]}: about 40 bytes
a price where the old frame spends about 150. Each price is encoded once per process (a
``Fragment``), and a frame is its subscribers' fragments joined, made once per distinct set.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SLOW_SECONDS = 10.0
MAX_SYMBOLS = 2000  # a subscription's symbols, per list
MAX_SYMBOL_LENGTH = 32  # as the watchlist takes them


class SubscriptionError(ValueError):
    """A subscribe message the relay cannot take; the message names the field."""


@dataclass(frozen=True)
class Symbols:
    """A subscription's list: sorted names (a tuple: an eighth of a set's memory, and a thousand
    pages keeping 480 symbols each hold 4 MB, not 33) and their hash, made once, that keys the
    frame shared by every socket with the same list."""

    names: tuple[str, ...]
    key: int

    @classmethod
    def of(cls, names: set[str] | frozenset[str]) -> Symbols:
        ordered = tuple(sorted(names))
        return cls(ordered, hash(ordered))


@dataclass(frozen=True)
class Subscription:
    live: Symbols
    slow: Symbols


def parse_subscription(text: str) -> Subscription | None:
    """A client's message as a subscription; None for a message of another type (ignored).
    SubscriptionError names what is wrong with a subscribe message."""
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise SubscriptionError(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or message.get("type") != "subscribe":
        return None
    lists = {}
    for field in ("live", "slow"):
        value = message.get(field, [])
        if (
            not isinstance(value, list)
            or len(value) > MAX_SYMBOLS
            or not all(isinstance(s, str) and 0 < len(s) <= MAX_SYMBOL_LENGTH for s in value)
        ):
            raise SubscriptionError(
                f"'{field}' must be a list of at most {MAX_SYMBOLS} symbols of 1 to {MAX_SYMBOL_LENGTH} characters"
            )
        lists[field] = {sys.intern(s) for s in value}  # one string per symbol, not one per socket
    return Subscription(Symbols.of(lists["live"]), Symbols.of(lists["slow"] - lists["live"]))


def error_message(text: str) -> str:
    return json.dumps({"type": "error", "message": text}, separators=(",", ":"))


class Encoder:
    """Encodes a published prices message's ticks once each, and joins them into frames. Source
    names get a number each for the life of the process, so a fragment stays valid in any frame."""

    def __init__(self) -> None:
        self.sources: list[str] = []
        self._source_numbers: dict[str, int] = {}
        self._sources_json = "[]"

    def fragments(self, prices: list[dict[str, Any]]) -> dict[str, str]:
        """{symbol: its newest tick among ``prices``, encoded}."""
        encoded: dict[str, tuple[int, str]] = {}
        for tick in prices:
            observed = _epoch_ms(tick["observed_at"])
            received = _epoch_ms(tick.get("received_at") or tick["observed_at"])
            symbol = tick["symbol"]
            if symbol in encoded and encoded[symbol][0] >= observed:
                continue
            row = [symbol, tick["price"], observed, received - observed, self._source_number(tick.get("source", ""))]
            encoded[symbol] = (observed, json.dumps(row, separators=(",", ":")))
        return {symbol: fragment for symbol, (_, fragment) in encoded.items()}

    def frame(self, fragments: list[str]) -> str:
        return f'{{"type":"ticks","sources":{self._sources_json},"ticks":[{",".join(fragments)}]}}'

    def _source_number(self, source: str) -> int:
        number = self._source_numbers.get(source)
        if number is None:
            number = self._source_numbers[source] = len(self.sources)
            self.sources.append(source)
            self._sources_json = json.dumps(self.sources, separators=(",", ":"))
        return number


def pick(fragments: dict[str, str], symbols: Symbols) -> list[str]:
    """The fragments of ``symbols``' names, in their order."""
    return [fragments[s] for s in symbols.names if s in fragments]


def _epoch_ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)
