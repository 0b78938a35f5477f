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
from flask import Flask
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kombu.exceptions import OperationalError
from sqlalchemy import text

from app.alerting.alerts import check_ticks
from app.extensions import db
from app.market.prices import store_ticks
from app.market.ticks import Tick
from app.pipeline.progress import Ledger, spans_of
from app.services import dead_letter_topic, ensure_topic, topic_id
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
    return [(name, messages) for name, messages, _ in queued_task_args(url)]


def queued_task_args(url: str) -> list[tuple[str, list, list]]:
    """(task name, tick messages, spans) of every task waiting on the Celery broker."""
    client = redis.Redis.from_url(url)
    messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    client.close()
    return [(m["headers"]["task"], *json.loads(base64.b64decode(m["body"]))[0]) for m in messages]


def work_off(app: Flask, url: str) -> int:
    """Do what a worker does with every queued task (the same domain calls, in this process):
    store and check the ticks, recording their spans. Returns how many tasks were done."""
    tasks = queued_task_args(url)
    redis.Redis.from_url(url).delete("celery")
    with app.app_context():
        for name, messages, spans in tasks:
            ticks = [Tick.from_message(m) for m in messages]
            if name == PERSIST_TASK:
                store_ticks(ticks, spans=spans_of(spans))
            else:
                check_ticks(ticks, spans_of(spans))
    return len(tasks)


@pytest.fixture
def make_bridge(app: Flask, settings: Settings):
    """Bridges on a topic and a Celery broker; their consumers and Celery connections are closed
    at teardown (an unclosed kombu socket otherwise surfaces as a ResourceWarning in a later test)."""
    made: list[tuple[Bridge, Celery]] = []

    def make(topic: str, broker_url: str, status: redis.Redis | None = None, replay_after: float = 60) -> Bridge:
        celery = Celery("bridge-test", broker=broker_url)
        celery.conf.broker_connection_retry = False
        # A group of its own: members of other tests must not share (or stall) its rebalances.
        own = replace(settings, kafka_topic=topic, kafka_consumer_group=f"group-{topic}")
        bridge = Bridge(
            make_consumer(own),
            topic,
            celery_dispatch(celery),
            status,
            500,
            make_dead_letters(own),
            KnownSymbols(known_symbols),
            Ledger(app, topic),
            lambda: topic_id(settings.kafka_bootstrap_servers, topic),
            replay_after,
        )
        made.append((bridge, celery))
        return bridge

    yield make
    for bridge, celery in made:
        bridge.consumer.close()
        bridge.dead_letters.close()
        celery.close()
    gc.collect()  # any socket still unclosed fails this test, not a later one


def poll_until_batch(bridge: Bridge, expected: int) -> int:
    got: list[int] = []
    wait_for(lambda: got.append(bridge.step()) or sum(got) >= expected, 30, f"{expected} ticks through the bridge")
    return sum(got)


def test_offsets_are_committed_only_once_postgresql_holds_them(
    app, settings, topic, make_bridge, celery_broker, tmp_path
):
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
    bridge.follow(force=True)
    assert set(committed(bridge, topic, settings.kafka_partitions).values()) == {None}  # handed off, not stored
    tasks = queued_tasks(url)
    assert sorted(name for name, _ in tasks) == sorted([PERSIST_TASK, ALERT_TASK] * (len(tasks) // 2))
    dispatched = [Tick.from_message(m) for name, batch in tasks if name == PERSIST_TASK for m in batch]
    assert sorted((t.symbol, t.observed_at) for t in dispatched) == sorted((t.symbol, t.observed_at) for t in ticks)

    work_off(app, url)  # stored and checked, each with its spans
    bridge.follow(force=True)
    offsets = committed(bridge, topic, settings.kafka_partitions)
    assert sum(o or 0 for o in offsets.values()) == 4  # every record committed, once
    with app.app_context():
        held = dict(db.session.execute(text("SELECT partition, next_offset FROM consumed_offsets")).all())
        ranges = db.session.execute(text("SELECT count(*) FROM consumed_ranges")).scalar_one()
    assert held == {p: o or 0 for p, o in offsets.items()}  # the same frontiers in PostgreSQL
    assert ranges == 0  # folded into it


def test_a_stage_that_did_not_record_holds_the_commit_back(app, settings, topic, make_bridge, celery_broker):
    ticks = [tick("BTC-USD", str(100 + i), i) for i in range(3)]
    produce(settings, topic, [t.encode() for t in ticks], ["same-partition"] * 3)
    bridge = make_bridge(topic, celery_broker["url"])
    poll_until_batch(bridge, 3)
    for name, messages, spans in queued_task_args(celery_broker["url"]):
        if name == PERSIST_TASK:  # stored, but the alert check was lost
            with app.app_context():
                store_ticks([Tick.from_message(m) for m in messages], spans=spans_of(spans))
    bridge.follow(force=True)
    assert set(committed(bridge, topic, settings.kafka_partitions).values()) == {None}


def test_what_the_celery_broker_lost_is_dispatched_again_after_the_deadline(
    app, settings, topic, make_bridge, celery_broker, redis_client
):
    ticks = [tick(s, "100", i) for i, s in enumerate(["BTC-USD", "ETH-USD", "DOGE-USD", "BTC-USD"])]
    produce(settings, topic, [t.encode() for t in ticks], [t.symbol for t in ticks])
    bridge = make_bridge(topic, celery_broker["url"], status=redis_client, replay_after=2)
    poll_until_batch(bridge, 4)
    redis.Redis.from_url(celery_broker["url"]).flushall()  # the Celery broker loses every queued task
    lost_at = time.monotonic()
    again = poll_until_batch(bridge, 4)  # nothing new on the topic: these are the same four again
    assert again == 4 and time.monotonic() - lost_at >= 1.5  # after the deadline, not before
    queued = queued_tasks(celery_broker["url"])
    dispatched = [Tick.from_message(m) for name, b in queued if name == PERSIST_TASK for m in b]
    assert sorted(dispatched, key=lambda t: t.observed_at) == ticks
    assert int(redis_client.hget("stockticker:pipeline", "bridge.replays")) >= 1
    work_off(app, celery_broker["url"])
    bridge.follow(force=True)
    assert sum(o or 0 for o in committed(bridge, topic, settings.kafka_partitions).values()) == 4
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM ticks")).scalar_one() == 4


def test_a_partition_starts_where_postgresql_holds_it(app, settings, topic, make_bridge, celery_broker):
    ticks = [tick("BTC-USD", str(100 + i), i) for i in range(6)]
    produce(settings, topic, [t.encode() for t in ticks], ["same-partition"] * 6)
    first = make_bridge(topic, celery_broker["url"])
    poll_until_batch(first, 6)
    (name, messages, [[_, topic_id, partition, begin, end]]), _ = queued_task_args(celery_broker["url"])
    assert (begin, end) == (0, 6)
    redis.Redis.from_url(celery_broker["url"]).delete("celery")
    first.consumer.close()  # nothing was committed to Kafka
    with app.app_context():  # ...but PostgreSQL holds the first four (a bridge killed before committing)
        spans = spans_of([[topic, topic_id, partition, 0, 4]])
        store_ticks([Tick.from_message(m) for m in messages[:4]], spans=spans)
        check_ticks([Tick.from_message(m) for m in messages[:4]], spans)
    second = make_bridge(topic, celery_broker["url"])
    assert poll_until_batch(second, 2) == 2
    tasks = queued_task_args(celery_broker["url"])
    assert {tuple(spans[0][3:]) for _, _, spans in tasks} == {(4, 6)}
    assert [Tick.from_message(m) for m in tasks[0][1]] == ticks[4:]


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
    (b"[" * 100_000, "nested too deeply"),  # was a RecursionError that stopped the partition
    (raw_tick(observed_at="9999-12-31T23:59:59-14:00"), "observed_at is out of range in UTC"),  # OverflowError
    (raw_tick(received_at="0001-01-01T00:00:00+14:00"), "received_at is out of range in UTC"),
]


def test_poison_messages_go_to_the_dead_letter_topic_and_the_batch_goes_on(
    app, settings, topic, make_bridge, celery_broker, redis_client
):
    good = [tick("ETH-USD", "3500", 0), tick("DOGE-USD", "0.2", 1)]
    payloads = [good[0].encode()] + [raw for raw, _ in POISON] + [good[1].encode()]
    produce(settings, topic, payloads, ["same-partition"] * len(payloads))
    bridge = make_bridge(topic, celery_broker["url"], status=redis_client)
    assert poll_until_batch(bridge, 2) == 2
    dispatched = [
        Tick.from_message(m) for name, b in queued_tasks(celery_broker["url"]) if name == PERSIST_TASK for m in b
    ]
    work_off(app, celery_broker["url"])
    bridge.follow(force=True)  # the dead letters' offsets are in the batch's span: committed with it
    assert sum(o or 0 for o in committed(bridge, topic, settings.kafka_partitions).values()) == len(payloads)
    # nothing else (the queue lists the newest batch first: big records split the poll in two)
    assert sorted(dispatched, key=lambda t: t.observed_at) == good
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
