"""Finding a symbol by name: "apple" -> AAPL, "bitcoin" -> BTC-USD.

The price source searches (Yahoo's own search, an exchange's markets, the simulator's list of
names), then the crypto source where crypto pairs have one of their own; the first to offer a
symbol names it. Answers are kept in Redis for SEARCH_CACHE_SECONDS: a page asks as the user
types, and Yahoo throttles a client that asks too often.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.market.sources import Match, PriceSource
from app.market.sources.chosen import crypto_source, price_source
from app.models import Symbol
from app.services import redis_client

SEARCH_CACHE_SECONDS = 600
MAX_RESULTS = 20


def _cached(source: PriceSource, query: str, limit: int) -> list[Match]:
    key = f"search:{source.name}:{limit}:{query.casefold()}"
    client = redis_client()
    kept = client.get(key)
    if kept is not None:
        return [Match(*fields) for fields in json.loads(kept)]
    found = source.search(query, limit)
    client.set(key, json.dumps([list(m) for m in found]), ex=SEARCH_CACHE_SECONDS)
    return found


def search(query: str, limit: int) -> dict[str, Any]:
    """The answer of GET /api/symbols/search: the matches best first, each saying whether it is
    watched. SourceError (Throttled) when the price source could not be asked."""
    main = price_source()
    sources = [main] + [s for s in (crypto_source(),) if s is not None]
    found: dict[str, Match] = {}
    for source in sources:
        for match in _cached(source, query, limit):
            found.setdefault(match.symbol, match)
    matches = list(found.values())[:limit]
    watched = set(
        db.session.scalars(select(Symbol.symbol).where(Symbol.active, Symbol.symbol.in_([m.symbol for m in matches])))
    )
    return {
        "query": query,
        "source": main.name,
        "results": [m._asdict() | {"watched": m.symbol in watched} for m in matches],
    }
