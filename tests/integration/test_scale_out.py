"""The compose scale-out topology without Docker: two bridges sharing a consumer group over a
topic with several partitions, two workers sharing the Celery queue, one beat. Each tick is
dispatched once and stored once, and a crossed alert fires once."""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

from kafka import KafkaConsumer
from sqlalchemy import select

from app.extensions import db
from app.market.ticks import Tick
from app.models import Alert
from app.models import Tick as TickRow
from app.pipeline.pubsub import ALERTS_CHANNEL, read_status
from app.services import ensure_topic
from devstack.processes import Stack, stack_env
from devstack.run import procfile_commands
from tests.integration.helpers import make_alert, wait_for

PARTITIONS = 4
ASSIGNED = re.compile(r"partitions assigned: \[([0-9, ]*)\]")


def assignments(stack: Stack) -> list[set[int]]:
    """Each bridge's latest partition assignment, from its log."""
    latest = []
    for name in ("bridge-1", "bridge-2"):
        found = ASSIGNED.findall(stack.log(name))
        latest.append({int(p) for p in found[-1].split(",") if p.strip()} if found else set())
    return latest


def topic_ticks(settings, topic: str, expected_at_least: int) -> list[Tick]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap_servers, group_id=f"count-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=2000, consumer_timeout_ms=8000,
    )  # fmt: skip
    ticks = [Tick.decode(record.value) for record in consumer]  # stops 8 s after the last record
    consumer.close()
    assert len(ticks) >= expected_at_least
    return ticks


def test_two_bridges_and_two_workers_store_each_tick_once_and_fire_an_alert_once(
    app, settings, server_env, redis_client, tmp_path
):
    topic = f"ticks-scale-{uuid.uuid4().hex[:6]}"
    ensure_topic(settings.kafka_bootstrap_servers, topic, PARTITIONS)
    env = stack_env(server_env, KAFKA_TOPIC=topic, KAFKA_CONSUMER_GROUP=f"bridges-{topic}")
    stack = Stack(env, tmp_path)
    commands = procfile_commands()
    alerts = redis_client.pubsub()
    alerts.subscribe(ALERTS_CHANNEL)
    try:
        for n in (1, 2):
            stack.start(f"bridge-{n}", commands["bridge"])
            stack.start(f"worker-{n}", f"{commands['worker']} --hostname worker{n}@%h --concurrency 2")

        def shared() -> bool:
            one, two = assignments(stack)
            return bool(one) and bool(two) and not one & two and one | two == set(range(PARTITIONS))

        wait_for(shared, 60, "both bridges to own part of the partitions")
        stack.start("beat", commands["beat"])  # ticks start flowing only now

        with app.app_context():
            wait_for(
                lambda: db.session.scalar(select(TickRow.price).where(TickRow.symbol == "BTC-USD")), 40, "a BTC tick"
            )
            db.session.rollback()
            price = db.session.scalar(
                select(TickRow.price).where(TickRow.symbol == "BTC-USD").order_by(TickRow.observed_at.desc()).limit(1)
            )
            alert_id = make_alert("BTC-USD", "above", str((price * Decimal("0.98")).quantize(Decimal("0.01"))))

            def fired() -> bool:
                db.session.rollback()
                return db.session.get(Alert, alert_id).status == "triggered"

            wait_for(fired, 30, "the alert to fire")
            rows_before = db.session.query(TickRow).count()
            wait_for(lambda: db.session.query(TickRow).count() >= rows_before + 9, 30, "three more fetches stored")
        stack.stop("beat")

        produced = topic_ticks(settings, topic, expected_at_least=12)
        with app.app_context():

            def drained() -> bool:
                db.session.rollback()
                return read_status(redis_client)["persist"].get("received_total", 0) >= len(produced)

            wait_for(drained, 30, "every produced tick to reach a persist task")
            stored = {(r.symbol, r.observed_at) for r in db.session.query(TickRow.symbol, TickRow.observed_at)}
        status = read_status(redis_client)
        # Every message dispatched exactly once (not once per bridge), every tick stored once.
        assert status["persist"]["received_total"] == len(produced)
        assert stored == {(t.symbol, t.observed_at) for t in produced}
        assert status["persist"]["stored_total"] == len(stored)
        # Both workers did part of the work.
        for n in (1, 2):
            assert "succeeded" in stack.log(f"worker-{n}"), f"worker-{n} ran no task"
        # The alert fired once, however many ticks crossed it on however many workers.
        notices = []
        while (message := alerts.get_message(timeout=0.5)) is not None:
            if message["type"] == "message" and (data := json.loads(message["data"]))["type"] == "alerts":
                notices.extend(alert["id"] for alert in data["alerts"])
        assert notices == [alert_id]
        assert status["alerts"]["fired_total"] == 1
    except AssertionError:
        print(stack.dump_logs())
        raise
    finally:
        alerts.close()
        stack.stop()
