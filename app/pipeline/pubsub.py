"""Redis pub/sub between the tasks and the WebSocket relay, and the pipeline status hash."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis

log = logging.getLogger(__name__)
PRICES_CHANNEL = "stockticker:prices"
ALERTS_CHANNEL = "stockticker:alerts"
CHANNELS = (PRICES_CHANNEL, ALERTS_CHANNEL)
STATUS_KEY = "stockticker:pipeline"
MARKETS_KEY = "stockticker:markets"  # hash: symbol -> its market session (app/market/hours.py)
AUTO_SOURCE_KEY = "stockticker:auto-source"  # what PRICE_SOURCE=auto chose for this start of the stack


def publish(client: redis.Redis, channel: str, messages: list[dict[str, Any]]) -> None:
    """Publish each message as JSON; one round trip for the lot."""
    if not messages:
        return
    pipe = client.pipeline(transaction=False)
    for message in messages:
        pipe.publish(channel, json.dumps(message, separators=(",", ":")))
    pipe.execute()


def tell_pages(client: redis.Redis, message: dict[str, Any]) -> None:
    """Every open page applies a change (other tabs too) that is already stored; a Redis that
    is away only costs the pages this news, which they catch up with on their next load."""
    try:
        publish(client, ALERTS_CHANNEL, [message])
    except redis.RedisError as exc:
        log.warning("could not tell the open pages about a change (%s): %s", message["type"], exc)


def tell_markets(client: redis.Redis, markets: dict[str, dict[str, Any]]) -> None:
    """Keep each watched symbol's market session (open / closed, next open or close) where the web
    reads it, and tell the pages the ones that changed: at an open or a close, not every fetch."""
    stored = {k.decode(): v.decode() for k, v in client.hgetall(MARKETS_KEY).items()}
    fresh = {symbol: json.dumps(session, sort_keys=True) for symbol, session in markets.items()}
    changed = {symbol: value for symbol, value in fresh.items() if stored.get(symbol) != value}
    gone = set(stored) - set(fresh)
    if gone:
        client.hdel(MARKETS_KEY, *gone)
    if changed:
        client.hset(MARKETS_KEY, mapping=changed)
        tell_pages(client, {"type": "markets", "markets": {s: markets[s] for s in changed}})


def read_markets(client: redis.Redis) -> dict[str, dict[str, Any]]:
    """Each watched symbol's market session as the last fetch judged it (symbols with hours only)."""
    return {k.decode(): json.loads(v) for k, v in client.hgetall(MARKETS_KEY).items()}


def read_market(client: redis.Redis, symbol: str) -> dict[str, Any] | None:
    """One symbol's market session, as read_markets has it (None: its hours are not known)."""
    stored = client.hget(MARKETS_KEY, symbol)
    return None if stored is None else json.loads(stored)


def closed_markets(client: redis.Redis) -> list[str]:
    """Symbols whose market is closed now: no new ticks is no news for them."""
    return [symbol for symbol, session in read_markets(client).items() if session["state"] == "closed"]


def record_stage(client: redis.Redis, stage: str, **fields: Any) -> None:
    """Note that a pipeline stage just ran, with its figures, for /api/status."""
    mapping = {f"{stage}.{name}": json.dumps(value) for name, value in fields.items()}
    mapping[f"{stage}.at"] = json.dumps(time.time())
    client.hset(STATUS_KEY, mapping=mapping)


def count_stage(client: redis.Redis, stage: str, counter: str, amount: int = 1) -> None:
    client.hincrby(STATUS_KEY, f"{stage}.{counter}", amount)


def read_status(client: redis.Redis) -> dict[str, dict[str, Any]]:
    """The stages' figures as {stage: {field: value}}."""
    status: dict[str, dict[str, Any]] = {}
    for key, raw in client.hgetall(STATUS_KEY).items():
        stage, _, name = key.decode().partition(".")
        status.setdefault(stage, {})[name] = json.loads(raw)
    return status
