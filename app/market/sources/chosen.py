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
YAHOO_VOLUMES = "stockticker:yahoo:volumes"  # each symbol's day volume at the last fetch
_source: PriceSource | None = None
_crypto: dict[str, PriceSource | None] | None = None  # "source", "fallback": made on first use


class RedisWalkState:
    """A source's running state per symbol in a Redis hash, shared by every worker process: the
    simulator's walk, Yahoo's day volumes."""

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
            history_years=settings.backfill_years,
            traded_state=RedisWalkState(redis_client(), YAHOO_VOLUMES),
            decide_once=decide_once,
        )
    return _source


def _exchange_or_main(setting: str | None) -> PriceSource | None:
    """What a CRYPTO_* setting names: the main source for ``yfinance``, an exchange, or nothing
    (unset, or simulated prices, which never mix with live ones)."""
    main = price_source()
    if setting is None or main.name == "simulated":
        return None
    if setting == "yfinance":
        return main
    timeout = current_app.config["SETTINGS"].yfinance_timeout_seconds
    return ExchangeSource(setting.removeprefix("ccxt:"), timeout_seconds=timeout)


def crypto_source() -> PriceSource | None:
    """CRYPTO_SOURCE's source where crypto pairs have one of their own (None: the main source's).
    Made on first use: the web needs it only to check a new pair, and ccxt is heavy to import."""
    global _crypto
    _crypto = _crypto or {}
    if "source" not in _crypto:
        made = _exchange_or_main(current_app.config["SETTINGS"].crypto_source)
        _crypto["source"] = None if made is price_source() else made
    return _crypto["source"]


def crypto_fallback() -> PriceSource | None:
    """CRYPTO_FALLBACK's source, asked for the pairs while theirs rests (None: no stand-in)."""
    global _crypto
    _crypto = _crypto or {}
    if "fallback" not in _crypto:
        made = _exchange_or_main(current_app.config["SETTINGS"].crypto_fallback)
        primary = crypto_source() or price_source()
        _crypto["fallback"] = None if made is None or made.name == primary.name else made
    return _crypto["fallback"]


def routes(watched: Sequence[Watched]) -> list[Route]:
    """This fetch's routes for the watchlist (in its order)."""
    return plan(price_source(), watched, crypto_source(), crypto_fallback())
