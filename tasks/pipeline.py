"""Stages 4 and 5: the tasks the bridge dispatches, one of each per Kafka batch.

Thin on purpose: decode the batch, call the domain function, publish to Redis.
Both are idempotent (ON CONFLICT, UPDATE ... WHERE status = 'active'), so a
re-delivered batch is harmless and the tasks may ack late and retry. Each records
its batch's Kafka spans in the transaction of its work (app/pipeline/progress.py):
the bridge commits to Kafka only what both recorded, and replays what they did not.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from flask import current_app
from redis import RedisError
from sqlalchemy.exc import OperationalError

from app.alerting.alerts import check_ticks
from app.market.prices import store_ticks, tick_json
from app.market.ticks import Tick
from app.pipeline.progress import spans_of
from app.pipeline.pubsub import ALERTS_CHANNEL, PRICES_CHANNEL, count_stage, publish, record_stage
from app.services import redis_client
from tasks.notify import enqueue_deliveries

log = logging.getLogger(__name__)
PERSIST_TASK = "tasks.pipeline.persist_ticks"
ALERT_TASK = "tasks.pipeline.check_alerts"
# Redelivered after a worker dies (acks_late + reject_on_worker_lost, visibility timeout in
# tasks.celery_app); hard time limits well inside that timeout.
RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 15,
    "time_limit": 20,
    "autoretry_for": (OperationalError, RedisError),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "max_retries": 8,
}


@shared_task(name=PERSIST_TASK, **RETRY)
def persist_ticks(messages: list[dict[str, Any]], spans: list[list[Any]] | None = None) -> int:
    """Store the batch and record its Kafka spans as stored; publish the newest new price of each
    symbol. Returns rows stored."""
    ticks = [Tick.from_message(m) for m in messages]
    stored = store_ticks(ticks, candles=current_app.config["SETTINGS"].candles, spans=spans_of(spans))
    newest: dict[str, Tick] = {}
    for tick in stored:
        if tick.symbol not in newest or tick.observed_at > newest[tick.symbol].observed_at:
            newest[tick.symbol] = tick
    client = redis_client()
    # One message (one WebSocket frame per open page) for the batch, not one per symbol.
    if newest:
        publish(client, PRICES_CHANNEL, [{"type": "prices", "prices": [tick_json(t) for t in newest.values()]}])
    record_stage(client, "persist", received=len(ticks), stored=len(stored))
    count_stage(client, "persist", "received_total", len(ticks))
    count_stage(client, "persist", "stored_total", len(stored))
    return len(stored)


@shared_task(name=ALERT_TASK, **RETRY)
def check_alerts(messages: list[dict[str, Any]], spans: list[list[Any]] | None = None) -> int:
    """Fire the alerts this batch satisfies and record its Kafka spans as checked; queue the
    deliveries and tell the pages. Returns how many fired."""
    result = check_ticks([Tick.from_message(m) for m in messages], spans_of(spans))
    for alert in result.fired:
        log.info(
            "alert %d fired: %s %s at %s", alert["id"], alert["symbol"], alert["condition"], alert["triggered_price"]
        )
    try:
        enqueue_deliveries(result.deliveries)
    except Exception as exc:  # the rows are committed: the sweep queues them once the broker is back
        log.error("could not queue %d deliveries (the sweep will): %s", len(result.deliveries), exc)
    client = redis_client()
    if result.fired:  # one frame for the batch's fires, however many (each its own frame cut readers)
        publish(client, ALERTS_CHANNEL, [{"type": "alerts", "alerts": result.fired}])
    record_stage(client, "alerts", checked=len(messages), fired=len(result.fired))
    count_stage(client, "alerts", "fired_total", len(result.fired))
    return len(result.fired)
