"""The Kafka bridge on the real Tansu broker, dispatching to a real Celery broker (Redis)."""

import base64
import gc
import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from celery import Celery
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kombu.exceptions import OperationalError

from app.market.ticks import Tick
from app.services import dead_letter_topic, ensure_topic
from config.settings import PROJECT_ROOT, Settings
from devstack.processes import stack_env
from devstack.servers import free_port, start_kafka, start_redis
from tasks.bridge import Bridge, KnownSymbols, celery_dispatch, make_consumer, make_dead_letters
from tasks.pipeline import ALERT_TASK, PERSIST_TASK
from tests.integration.helpers import tick, wait_for


@pytest.fixture
def celery_broker(tmp_path: Path):
    """A Redis of its own to act as the Celery broker, so the test can stop and restart it."""
    port = free_port()
    url, stop = start_redis(port, tmp_path / "redis.log")
    handle = {"url": url, "port": port, "stop": stop}
    yield handle
    handle["stop"]()


def known_symbols() -> set[str]:
    return {"BTC-USD", "ETH-USD", "DOGE-USD"}


def produce(settings: Settings, topic: str, payloads: list[bytes], keys: list[str]) -> None:
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, max_request_size=2 << 20, allow_auto_create_topics=False
    )
    for key, payload in zip(keys, payloads, strict=True):
        producer.send(topic, key=key.encode(), value=payload)
    producer.flush()
    producer.close()


def committed(bridge: Bridge, topic: str, partitions: int) -> dict[int, int | None]:
    return {p: bridge.consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}


def queued_tasks(url: str) -> list[tuple[str, list]]:
    client = redis.Redis.from_url(url)
    messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    client.close()
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0][0]) for m in messages]


@pytest.fixture
def make_bridge(settings: Settings):
    """Bridges on a topic and a Celery broker; their consumers and Celery connections are closed
    at teardown (an unclosed kombu socket otherwise surfaces as a ResourceWarning in a later test)."""
    made: list[tuple[Bridge, Celery]] = []

    def make(topic: str, broker_url: str, status: redis.Redis | None = None) -> Bridge:
        app = Celery("bridge-test", broker=broker_url)
        app.conf.broker_connection_retry = False
        # A group of its own: members of other tests must not share (or stall) its rebalances.
        own = replace(settings, kafka_topic=topic, kafka_consumer_group=f"group-{topic}")
        bridge = Bridge(
            make_consumer(own),
            topic,
            celery_dispatch(app),
            status,
            500,
            make_dead_letters(own),
            KnownSymbols(known_symbols),
        )
        made.append((bridge, app))
        return bridge

    yield make
    for bridge, app in made:
        bridge.consumer.close()
        bridge.dead_letters.close()
        app.close()
    gc.collect()  # any socket still unclosed fails this test, not a later one


def poll_until_batch(bridge: Bridge, expected: int) -> int:
    got: list[int] = []
    wait_for(lambda: got.append(bridge.step()) or sum(got) >= expected, 30, f"{expected} ticks through the bridge")
    return sum(got)


def test_offsets_are_committed_only_after_the_dispatch_succeeded(settings, topic, make_bridge, celery_broker, tmp_path):
    ticks = [tick(s, "100", i) for i, s in enumerate(["BTC-USD", "ETH-USD", "DOGE-USD", "BTC-USD"])]
    produce(settings, topic, [t.encode() for t in ticks], [t.symbol for t in ticks])
    bridge = make_bridge(topic, celery_broker["url"])
    celery_broker["stop"]()  # the Celery broker is down: dispatch must fail

    deadline = time.monotonic() + 40
    with pytest.raises(OperationalError, match="Connection refused"):
        while time.monotonic() < deadline:
            assert bridge.step() == 0, "dispatch succeeded with the broker down"
    assert set(committed(bridge, topic, settings.kafka_partitions).values()) == {None}

    url, stop = start_redis(celery_broker["port"], tmp_path / "redis-again.log")  # the broker is back
    celery_broker["stop"] = stop
    assert poll_until_batch(bridge, 4) == 4  # the same batch is polled again, nothing lost
    offsets = committed(bridge, topic, settings.kafka_partitions)
    assert sum(o or 0 for o in offsets.values()) == 4  # every record committed, once
    tasks = queued_tasks(url)
    assert sorted(name for name, _ in tasks) == sorted([PERSIST_TASK, ALERT_TASK] * (len(tasks) // 2))
    dispatched = [Tick.from_message(m) for name, batch in tasks if name == PERSIST_TASK for m in batch]
    assert sorted((t.symbol, t.observed_at) for t in dispatched) == sorted((t.symbol, t.observed_at) for t in ticks)


def test_one_persist_and_one_alert_task_per_batch(settings, topic, make_bridge, celery_broker):
    ticks = [tick("BTC-USD", str(100 + i), i) for i in range(20)]
    produce(settings, topic, [t.encode() for t in ticks], [t.symbol for t in ticks])
    bridge = make_bridge(topic, celery_broker["url"])
    batches = []
    wait_for(lambda: batches.append(bridge.step()) or sum(batches) >= 20, 30, "20 ticks")
    tasks = queued_tasks(celery_broker["url"])
    dispatching_steps = len([b for b in batches if b])
    assert len(tasks) == 2 * dispatching_steps < 2 * 20  # per batch, not per message


def dead_letters(settings: Settings, topic: str, count: int) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = KafkaConsumer(
        dead_letter_topic(topic), bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None,
        auto_offset_reset="earliest", consumer_timeout_ms=2000,
    )  # fmt: skip
    got: list[tuple[bytes, dict[str, bytes]]] = []
    try:
        wait_for(
            lambda: got.extend((r.value, dict(r.headers)) for r in consumer) or len(got) >= count, 30, "dead letters"
        )
    finally:
        consumer.close()
    return got


def raw_tick(**changes: object) -> bytes:
    message = tick("BTC-USD", "100", 1).to_message() | changes
    return json.dumps({k: v for k, v in message.items() if v is not None}).encode()


POISON = [
    (b"not json", "not JSON"),
    (raw_tick(v=2), "unsupported schema version 2"),
    (raw_tick(price=float("nan")), "price must be a finite number"),  # JSON's NaN extension
    (raw_tick(price="-3"), "price must be greater than 0"),
    (raw_tick(price="1e20"), "price is too large"),
    (raw_tick(symbol="ZZZ-USD"), "unknown symbol 'ZZZ-USD' (not in the symbols table)"),
    (raw_tick(observed_at=None), "observed_at must be an ISO 8601 timestamp"),
    (raw_tick(price=True), "price must be a number"),
    (raw_tick(source=["simulated"]), "invalid source"),
    (raw_tick(observed_at="2999-01-01T00:00:00+00:00"), "observed_at is more than an hour ahead of this clock"),
    (b'{"v": 1, "symbol": "' + b"A" * 1_000_000 + b'"}', "invalid symbol"),
]


def test_poison_messages_go_to_the_dead_letter_topic_and_the_batch_goes_on(
    settings, topic, make_bridge, celery_broker, redis_client
):
    good = [tick("ETH-USD", "3500", 0), tick("DOGE-USD", "0.2", 1)]
    payloads = [good[0].encode()] + [raw for raw, _ in POISON] + [good[1].encode()]
    produce(settings, topic, payloads, ["same-partition"] * len(payloads))
    bridge = make_bridge(topic, celery_broker["url"], status=redis_client)
    assert poll_until_batch(bridge, 2) == 2
    assert sum(o or 0 for o in committed(bridge, topic, settings.kafka_partitions).values()) == len(payloads)
    dispatched = [
        Tick.from_message(m) for name, b in queued_tasks(celery_broker["url"]) if name == PERSIST_TASK for m in b
    ]
    assert dispatched == good  # in order, and nothing else
    letters = dead_letters(settings, topic, len(POISON))
    assert len(letters) == len(POISON)
    for (value, headers), (raw, reason) in zip(letters, POISON, strict=True):
        assert reason in headers["error"].decode()
        assert headers["size"] == str(len(raw)).encode() and headers["source"].startswith(topic.encode())
        assert value == raw[: 64 * 1024]  # the 1 MB one is cut to 64 KiB, its size kept in a header
    assert int(redis_client.hget("stockticker:pipeline", "bridge.bad_messages")) == len(POISON)


def test_stop_ends_the_loop_and_closes_the_consumer(settings, topic, make_bridge, celery_broker):
    bridge = make_bridge(topic, celery_broker["url"])
    runner = threading.Thread(target=bridge.run)
    runner.start()
    bridge.stop()
    runner.join(timeout=15)
    assert not runner.is_alive()
    assert bridge.consumer._closed


def test_the_bridge_process_carries_on_after_the_kafka_broker_restarts(
    app, settings, server_env, celery_broker, tmp_path
):
    port = free_port()
    bootstrap, stop_kafka = start_kafka(port, tmp_path / "tansu.log")
    own = replace(settings, kafka_bootstrap_servers=bootstrap, kafka_topic="ticks-restart")
    ensure_topic(bootstrap, own.kafka_topic, own.kafka_partitions)
    env = stack_env(
        server_env,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        KAFKA_TOPIC=own.kafka_topic,
        KAFKA_CONSUMER_GROUP="group-restart",
        CELERY_BROKER_URL=celery_broker["url"],
    )
    log_path = tmp_path / "bridge.log"
    with open(log_path, "wb") as log_file:
        bridge = subprocess.Popen(
            [sys.executable, "-m", "tasks.bridge"], env=env, cwd=PROJECT_ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        before = tick("BTC-USD", "100", 0)
        produce(own, own.kafka_topic, [before.encode()], ["BTC-USD"])
        wait_for(lambda: len(queued_tasks(celery_broker["url"])) == 2, 60, "the first batch dispatched")

        stop_kafka()  # the broker goes away (Tansu keeps topics in memory: they go too)
        time.sleep(3)  # the bridge must live through a stretch with no broker at all
        bootstrap, stop_kafka = start_kafka(port, tmp_path / "tansu-again.log")
        # Nobody makes the topic by hand: Tansu makes it again at the bridge's first request for it
        # (with its own 4 partitions: it has no CreatePartitions to fix that; README, embedded broker).
        # (An admin client here would leave a socket open when it tries too early: see DEVELOPERS.)
        wait_for(lambda: log_path.read_text().count("partitions assigned") >= 2, 60, "the topic back, assigned")
        after = tick("ETH-USD", "200", 2)
        produce(own, own.kafka_topic, [after.encode()], ["ETH-USD"])
        wait_for(lambda: len(queued_tasks(celery_broker["url"])) >= 4, 90, "a batch after the restart")
        assert bridge.poll() is None
        tasks = queued_tasks(celery_broker["url"])
        assert after in [Tick.from_message(m) for name, b in tasks if name == PERSIST_TASK for m in b]
        bridge.terminate()
        assert bridge.wait(timeout=20) == 0  # SIGTERM: a clean stop
        assert "bridge stopped" in log_path.read_text()
    except AssertionError:
        print(log_path.read_text()[-5000:])
        raise
    finally:
        if bridge.poll() is None:
            bridge.kill()
        stop_kafka()
