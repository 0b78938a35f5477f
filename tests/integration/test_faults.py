"""Faults against the real processes and servers: kill -9 a worker or the bridge, run two beats,
feed ticks out of order. Each test is bounded in time and ends by asserting on the database."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from flask import Flask
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import text

from app.extensions import db
from app.market.prices import store_ticks
from app.market.ticks import Tick
from app.services import ensure_topic
from config.settings import Settings
from devstack.processes import Stack, running_stack
from devstack.run import procfile_commands
from tests.integration.helpers import make_alert, pool_children, wait_for

STATUS = "stockticker:pipeline"
PRICES = {"BTC-USD": "97000", "ETH-USD": "3500", "DOGE-USD": "0.2"}


def stored(app: Flask) -> list[tuple[str, datetime, Decimal]]:
    with app.app_context():
        rows = db.session.execute(text("SELECT symbol, observed_at, price FROM ticks ORDER BY symbol, observed_at"))
        return [tuple(r) for r in rows]


def duplicates(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM ticks GROUP BY symbol, observed_at, source HAVING count(*) > 1) d"
            )
        ).scalar_one()


def topic_ticks(settings: Settings, topic: str) -> set[tuple[str, datetime, Decimal]]:
    """Every tick on ``topic``, read from the start by a consumer of no group."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None, auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )  # fmt: skip
    try:
        ticks = {Tick.decode(r.value) for r in consumer}
    finally:
        consumer.close()
    return {(t.symbol, t.observed_at, t.price) for t in ticks}


def counter(client: redis.Redis, field: str) -> int:
    return int(client.hget(STATUS, field) or 0)


@pytest.fixture
def own_topic(settings: Settings) -> dict[str, str]:
    """A topic and consumer group of this test's own: what it produced is exactly what is on it."""
    topic = f"faults-{uuid.uuid4().hex[:8]}"
    ensure_topic(settings.kafka_bootstrap_servers, topic, settings.kafka_partitions)
    return {"KAFKA_TOPIC": topic, "KAFKA_CONSUMER_GROUP": f"group-{topic}"}


def test_out_of_order_and_repeated_ticks_never_move_the_latest_price_back(ctx, client):
    now = datetime.now(UTC).replace(microsecond=0)

    def at(seconds: int, price: str) -> Tick:
        return Tick("BTC-USD", Decimal(price), now - timedelta(seconds=seconds), now, "simulated")

    def latest() -> float:
        return next(p["price"] for p in client.get("/api/prices/latest").json["prices"] if p["symbol"] == "BTC-USD")

    store_ticks([at(0, "105")])
    assert latest() == 105.0
    store_ticks([at(30, "90"), at(10, "95")])  # late arrivals, older than what is shown
    assert latest() == 105.0
    assert store_ticks([at(0, "50")]) == []  # the same tick again (another price): not stored, not shown
    assert latest() == 105.0
    store_ticks([at(20, "99"), at(-5, "106")])  # a batch in any order: the newest wins
    assert latest() == 106.0


@pytest.fixture
def stack_of_own(app, server_env, own_topic, tmp_path) -> Iterator[Stack]:
    with running_stack(
        server_env, tmp_path, **own_topic, BROKER_VISIBILITY_TIMEOUT_SECONDS="15", NOTIFY_TIMEOUT_SECONDS="3"
    ) as stack:
        yield stack


def test_two_beats_for_20_s_store_each_tick_once(app: Flask, stack_of_own: Stack, redis_client, tmp_path):
    wait_for(lambda: stored(app), 60, "the first stored tick")
    second = Stack(stack_of_own.env | {"DATA_DIR": str(tmp_path / "beat2")}, tmp_path)  # its own schedule file
    second.start("beat", procfile_commands()["beat"])
    try:
        time.sleep(20)
    finally:
        second.stop()
        stack_of_own.stop("beat")
    drained = wait_for(lambda: _settled(app), 30, "the pipeline to settle")
    assert duplicates(app) == 0
    assert len(drained) >= 3 * 8  # about ten fetches a symbol in 20 s
    # Both beats were fetching: the persist task saw more ticks than it stored.
    assert counter(redis_client, "persist.received_total") > 1.3 * counter(redis_client, "persist.stored_total")


def _settled(app: Flask) -> list | None:
    """The stored ticks once two reads a second apart agree."""
    first = stored(app)
    time.sleep(1.5)
    return first if first and stored(app) == first else None


def test_a_worker_killed_mid_persist_loses_and_repeats_nothing(
    app: Flask, settings: Settings, server_env, own_topic, tmp_path
):
    """Ticks stream in (three every 50 ms) while the worker is killed -9 three times at random
    moments of its work, with batches taken and not yet acknowledged; each time a new one starts."""
    stack = Stack(
        _env(server_env, own_topic, BROKER_VISIBILITY_TIMEOUT_SECONDS="15", NOTIFY_TIMEOUT_SECONDS="3"), tmp_path
    )
    commands = procfile_commands()
    streaming = threading.Event()
    sent: list[Tick] = []

    def stream() -> None:
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=5)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        n = 0
        while streaming.is_set():
            for symbol in PRICES:
                tick = Tick(
                    symbol, Decimal(PRICES[symbol]) + n, start + timedelta(milliseconds=50 * n), start, "simulated"
                )
                producer.send(own_topic["KAFKA_TOPIC"], key=symbol.encode(), value=tick.encode())
                sent.append(tick)
            n += 1
            time.sleep(0.05)
        producer.flush()
        producer.close()

    streaming.set()
    streamer = threading.Thread(target=stream)
    try:
        stack.start("worker", commands["worker"])
        stack.start("bridge", commands["bridge"])
        streamer.start()
        for _ in range(3):
            wait_for(lambda: stored(app), 60, "ticks being stored")
            time.sleep(random.uniform(1.0, 3.0))
            for pid in wait_for(lambda: pool_children(stack), 10, "the worker's pool processes"):
                os.kill(pid, signal.SIGSTOP)  # batches are taken (unacknowledged) but not stored
            time.sleep(1)
            stack.kill("worker")
            time.sleep(1)
            stack.start("worker", commands["worker"])
        time.sleep(2)
        streaming.clear()
        streamer.join(timeout=10)
        started = time.monotonic()
        produced = {(t.symbol, t.observed_at, t.price) for t in sent}
        # Batches the dead workers held come back after the visibility timeout (15 s here).
        try:
            wait_for(lambda: set(stored(app)) == produced, 60, "every produced tick stored")
        except AssertionError:
            missing = sorted(produced - set(stored(app)))
            print(f"missing {len(missing)} of {len(produced)}: {missing[:3]} ... {missing[-3:]}")
            print(f"tasks held unacknowledged: {redis.Redis.from_url(settings.redis_url).hlen('unacked')}")
            on_topic = topic_ticks(settings, own_topic["KAFKA_TOPIC"])
            print(f"of those on the topic (else the test's producer lost them): {len(set(missing) & on_topic)}")
            print(f"worker log (every start): {tmp_path / 'worker.log'}")
            raise
        recovery = time.monotonic() - started
    finally:
        streaming.clear()
        stack.stop()
    assert duplicates(app) == 0
    assert len(stored(app)) == len(produced) >= 300
    print(f"{len(produced)} ticks, all stored once, {recovery:.1f} s after the stream stopped")


def test_the_bridge_killed_between_dispatch_and_commit_stores_and_fires_once(
    app: Flask, settings: Settings, server_env, own_topic, redis_client, tmp_path
):
    """Ticks produced up front, read in batches of 5; the bridge is killed until a batch was
    demonstrably handed off twice (dispatched, not committed), five times at least."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    prices = [Decimal(100 + (i % 40)) for i in range(5000)]  # up to 139 and back, again and again
    ticks = [Tick("BTC-USD", p, start + timedelta(seconds=i), start, "simulated") for i, p in enumerate(prices)]
    with app.app_context():
        once = make_alert("BTC-USD", "above", "139")  # first reached at the 40th tick
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    for t in ticks:
        producer.send(own_topic["KAFKA_TOPIC"], key=b"BTC-USD", value=t.encode())
    producer.flush()
    producer.close()
    with app.app_context():  # the alert must predate the ticks' receipt to be armed for them
        db.session.execute(text("UPDATE alerts SET created_at = :at"), {"at": start - timedelta(hours=1)})
        db.session.commit()

    stack = Stack(_env(server_env, own_topic, KAFKA_MAX_POLL_RECORDS="5"), tmp_path)
    commands = procfile_commands()
    kills = 0
    try:
        stack.start("worker", commands["worker"])
        stack.start("bridge", commands["bridge"])
        while kills < 5 or counter(redis_client, "persist.received_total") <= len(stored(app)):
            assert kills < 20, "no batch was handed off twice in 20 kills"
            done = len(stored(app))
            assert done < len(ticks), f"every tick was through before {kills} kills: produce more"
            wait_for(lambda done=done: len(stored(app)) > done, 60, "the (re)started bridge at work")
            time.sleep(random.uniform(0.05, 0.5))
            stack.kill("bridge")
            kills += 1
            stack.start("bridge", commands["bridge"])
        wait_for(lambda: len(stored(app)) == len(ticks), 120, "every tick stored")
        wait_for(lambda: _quiet(redis_client), 60, "the last tasks done")
    finally:
        stack.stop()
    assert duplicates(app) == 0
    assert [(s, o) for s, o, _ in stored(app)] == [(t.symbol, t.observed_at) for t in ticks]
    with app.app_context():
        events = db.session.execute(text("SELECT alert_id, price FROM alert_events")).all()
    assert [(a, float(p)) for a, p in events] == [(once, 139.0)]  # fired once, however often replayed
    replayed = counter(redis_client, "persist.received_total") - len(ticks)
    print(f"{kills} kills; {replayed} ticks handed off twice or more")


def _quiet(client: redis.Redis) -> bool:
    return client.llen("celery") == 0


def _env(server_env: dict[str, str], own_topic: dict[str, str], **changes: str) -> dict[str, str]:
    from devstack.processes import stack_env

    return stack_env(server_env, **own_topic, **changes)
