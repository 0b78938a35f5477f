"""The fetch task against real Redis and Kafka: produce, skip while running, survive a failing source."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaConsumer

import tasks.fetch as fetch
from app.market.sources import SourceError, chosen
from app.market.sources.simulated import SimulatedSource
from app.market.ticks import Tick
from app.pipeline.pubsub import read_status
from tasks.producer import close_producer
from tests.integration.helpers import wait_for


class BrokenSource:
    name = "yfinance"

    def fetch(self, symbols, now):
        raise SourceError("Yahoo Finance did not answer within 10 s")


@pytest.fixture
def fetch_topic(app, settings, topic):
    """Point the app's settings at a topic of this test's own; restore them after."""
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = replace(settings, kafka_topic=topic)
    yield topic
    app.config["SETTINGS"] = original
    chosen._source = None
    close_producer()


def consume(settings, topic: str, expected: int) -> list[Tick]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"reader-{topic}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    ticks: list[Tick] = []
    keys: list[bytes] = []

    def read() -> bool:
        for records in consumer.poll(timeout_ms=500).values():
            ticks.extend(Tick.decode(r.value) for r in records)
            keys.extend(r.key for r in records)
        return len(ticks) >= expected

    wait_for(read, 30, f"{expected} ticks on {topic}")
    consumer.close()
    assert keys == [t.symbol.encode() for t in ticks]  # key = symbol
    return ticks


def test_one_fetch_produces_one_tick_per_active_symbol(ctx, settings, fetch_topic, redis_client):
    chosen._source = SimulatedSource(seed=1, interval_seconds=2)
    assert fetch.fetch_prices.run() == 3
    ticks = consume(settings, fetch_topic, 3)
    assert sorted(t.symbol for t in ticks) == ["BTC-USD", "DOGE-USD", "ETH-USD"]
    assert {t.source for t in ticks} == {"simulated"}
    assert all(t.received_at >= t.observed_at for t in ticks)
    assert read_status(redis_client)["fetch"] | {"at": 0} == {
        "at": 0, "ticks": 3, "source": "simulated", "last_error": None,
    }  # fmt: skip


def test_a_fetch_skips_while_the_previous_one_runs(ctx, fetch_topic, redis_client):
    chosen._source = SimulatedSource(seed=1, interval_seconds=2)
    lock = redis_client.lock(fetch.FETCH_LOCK, timeout=30)
    assert lock.acquire(blocking=False)
    try:
        assert fetch.fetch_prices.run() == 0
    finally:
        lock.release()
    assert read_status(redis_client)["fetch"]["skipped"] == 1
    assert fetch.fetch_prices.run() == 3


def test_a_failing_source_is_logged_and_counted_not_raised(ctx, fetch_topic, redis_client, caplog):
    chosen._source = BrokenSource()
    assert fetch.fetch_prices.run() == 0
    assert fetch.fetch_prices.run() == 0
    status = read_status(redis_client)["fetch"]
    assert status["failures"] == 2
    assert status["last_error"] == "yfinance: Yahoo Finance did not answer within 10 s"
    assert "fetch from yfinance failed for BTC-USD,ETH-USD,DOGE-USD" in caplog.text
    assert not redis_client.exists(fetch.FETCH_LOCK)  # released for the next run


def test_auto_is_decided_once_for_every_process_and_afresh_at_setup(app, ctx, redis_client):
    from app.pipeline.pubsub import AUTO_SOURCE_KEY

    assert chosen.decide_once(lambda: "simulated") == "simulated"
    # Another worker process asks later, when Yahoo would answer: it gets the stack's answer.
    assert chosen.decide_once(lambda: "yfinance") == "simulated"
    result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert not redis_client.exists(AUTO_SOURCE_KEY)
    assert chosen.decide_once(lambda: "yfinance") == "yfinance"


def test_the_simulated_walk_lives_in_redis_and_two_processes_continue_it(ctx, redis_client):
    state = chosen.RedisWalkState(redis_client, chosen.SIMULATOR_STATE)
    assert state.get_many(["BTC-USD"]) == {}
    first = SimulatedSource(seed=3, interval_seconds=2, state=state)
    other_process = chosen.RedisWalkState(redis_client, chosen.SIMULATOR_STATE)
    second = SimulatedSource(seed=3, interval_seconds=2, state=other_process)
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    a = first.fetch(["BTC-USD", "ETH-USD"], t0)
    b = second.fetch(["BTC-USD", "ETH-USD"], t0 + timedelta(seconds=1))  # same slot: same ticks
    c = second.fetch(["BTC-USD", "ETH-USD"], t0 + timedelta(seconds=2))  # next slot: continues a's walk
    assert a == b
    stored = {k.decode(): v.decode() for k, v in redis_client.hgetall(chosen.SIMULATOR_STATE).items()}
    assert stored == {q.symbol: f"{int(t0.timestamp()) // 2 + 1}:{q.price}" for q in c}
    assert state.get_many(["ETH-USD", "XRP-USD"]) == {"ETH-USD": stored["ETH-USD"]}
