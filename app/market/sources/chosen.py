"""The price source this process uses: PRICE_SOURCE, and for ``auto`` the stack's one answer.

Chosen on first use and kept for the life of the process (the fetch task, the web's symbol check).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import redis
from flask import current_app

from app.market.prices import last_prices
from app.market.sources import PriceSource, select_source
from app.market.sources.exchange import ExchangeSource
from app.market.sources.routes import Route, Watched, plan
from app.pipeline.pubsub import AUTO_SOURCE_KEY
from app.services import redis_client

SIMULATOR_STATE = "stockticker:simulator"
_source: PriceSource | None = None
_crypto: tuple[PriceSource | None, PriceSource | None] | None = None


class RedisWalkState:
    """The simulator's walk in a Redis hash, so every worker process continues the same walk."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client, self.key = client, key

    def get_many(self, symbols: Sequence[str]) -> dict[str, str]:
        values = self.client.hmget(self.key, list(symbols)) if symbols else []
        return {s: v.decode() for s, v in zip(symbols, values, strict=True) if v is not None}

    def set_many(self, points: Mapping[str, str]) -> None:
        self.client.hset(self.key, mapping=dict(points))


def decide_once(decide: Callable[[], str]) -> str:
    """The stack's one answer for PRICE_SOURCE=auto: the first worker process to ask decides
    and records it in Redis; `flask setup` clears it when the stack (re)starts."""
    client = redis_client()
    chosen = client.get(AUTO_SOURCE_KEY)
    if chosen is None:
        client.set(AUTO_SOURCE_KEY, decide(), nx=True)
        chosen = client.get(AUTO_SOURCE_KEY)
    return chosen.decode()


def price_source() -> PriceSource:
    """This process's source, chosen on its first fetch."""
    global _source
    if _source is None:
        settings = current_app.config["SETTINGS"]
        _source = select_source(
            settings.price_source,
            seed=settings.simulator_seed,
            interval_seconds=settings.fetch_interval_seconds,
            yfinance_timeout=settings.yfinance_timeout_seconds,
            simulator_state=RedisWalkState(redis_client(), SIMULATOR_STATE),
            last_known=last_prices,
            probe_symbols=settings.symbols,
            decide_once=decide_once,
        )
    return _source


def crypto_sources() -> tuple[PriceSource | None, PriceSource | None]:
    """(CRYPTO_SOURCE's source if crypto pairs have one of their own, CRYPTO_FALLBACK's source);
    neither for simulated prices. An unknown exchange raises UnknownExchange naming the value."""
    global _crypto
    if _crypto is None:
        settings = current_app.config["SETTINGS"]
        main = price_source()

        def make(name: str | None) -> PriceSource | None:
            if name is None or main.name == "simulated":
                return None
            if name == "yfinance":
                return main
            return ExchangeSource(name.removeprefix("ccxt:"), timeout_seconds=settings.yfinance_timeout_seconds)

        crypto = make(settings.crypto_source)
        fallback = make(settings.crypto_fallback)
        _crypto = (
            None if crypto is main else crypto,
            None if fallback is None or fallback.name == (crypto or main).name else fallback,
        )
    return _crypto


def routes(watched: Sequence[Watched]) -> list[Route]:
    """This fetch's routes for the watchlist (in its order)."""
    return plan(price_source(), watched, *crypto_sources())
