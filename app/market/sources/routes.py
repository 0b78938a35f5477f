"""Which source each watched symbol is asked of in one fetch.

Live prices come from Yahoo (PRICE_SOURCE); crypto pairs may come from an exchange instead
(CRYPTO_SOURCE=ccxt:<exchange>), and while their source rests after throttling, or fails, from
CRYPTO_FALLBACK, so that BTC does not freeze when Yahoo refuses us. Simulated prices take every
symbol: a simulated stack never mixes in live ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from app.market.sources import CRYPTO_PAIR_RE, PriceSource


class Watched(NamedTuple):
    """A symbol on the watchlist as the fetch needs it."""

    symbol: str
    quote_type: str | None = None  # what the source said it is; None until described
    calendar: str | None = None  # its trading hours (app/market/hours.py)


@dataclass(frozen=True)
class Route:
    source: PriceSource
    symbols: tuple[str, ...]
    fallback: Route | None = None  # asked instead while ``source`` rests or fails


def is_crypto(symbol: str, quote_type: str | None) -> bool:
    """What the source said when the symbol was added; until then, Yahoo's pair form (BTC-USD)."""
    if quote_type is not None:
        return quote_type == "CRYPTOCURRENCY"
    return CRYPTO_PAIR_RE.match(symbol) is not None


def plan(
    main: PriceSource,
    watched: Sequence[Watched],
    crypto: PriceSource | None = None,
    fallback: PriceSource | None = None,
) -> list[Route]:
    """The routes for the watchlist ``watched`` (in its order): ``crypto`` when crypto pairs have
    a source of their own, ``fallback`` for them while theirs rests."""
    pairs = tuple(w.symbol for w in watched if is_crypto(w.symbol, w.quote_type))
    rescue = Route(fallback, pairs) if fallback is not None and pairs else None
    if crypto is None:
        everything = tuple(w.symbol for w in watched)
        return [Route(main, everything, rescue)] if everything else []
    others = tuple(w.symbol for w in watched if not is_crypto(w.symbol, w.quote_type))
    routes = [Route(main, others)] if others else []
    return routes + ([Route(crypto, pairs, rescue)] if pairs else [])
