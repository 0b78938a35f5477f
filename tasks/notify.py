"""Stage 6: notifications. The alert check queues one ``deliver`` task per delivery row; beat runs
``sweep`` to queue what is due and was lost or deferred (retries, a worker killed mid-queue),
to expire alerts and to send the portfolio's daily summaries. Tasks carry delivery ids only,
never a channel URL.

Both run on their own queue (NOTIFY_QUEUE): a plain ``celery worker`` consumes it beside the
pipeline's queue, and a worker started with ``--queues notifications`` can take it alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task
from flask import current_app
from redis import RedisError
from sqlalchemy.exc import OperationalError

from app.alerting.alerts import expire_alerts, send_summaries
from app.alerting.deliveries import attempt_delivery, claim_due
from app.pipeline.pubsub import ALERTS_CHANNEL, count_stage, publish, record_stage
from app.services import redis_client
from config.settings import TASK_OVERHEAD_SECONDS, Settings

log = logging.getLogger(__name__)
NOTIFY_QUEUE = "notifications"
DELIVER_TASK = "tasks.notify.deliver"
SWEEP_TASK = "tasks.notify.sweep"
FAN_OUT_TASK = "tasks.notify.fan_out"
DIRECT_LIMIT = 100
FAN_OUT_CHUNK = 500


def self_retry_limit(settings: Settings) -> float:
    """Longest countdown a retry may wait in the worker as a queued task: a task held unacked
    past the broker's visibility timeout would be handed out again. Longer waits go to the sweep."""
    return max(
        0.0, settings.broker_visibility_timeout_seconds - settings.notify_timeout_seconds - TASK_OVERHEAD_SECONDS
    )


def enqueue_deliveries(ids: Iterable[int], countdown: float | None = None) -> None:
    """One deliver task per id. A large fire (thousands of alerts in one batch) is handed to
    fan_out tasks in chunks, so the alert check does not spend seconds publishing."""
    ids = list(ids)
    if len(ids) <= DIRECT_LIMIT:
        _publish(ids, countdown)
        return
    for start in range(0, len(ids), FAN_OUT_CHUNK):
        fan_out.apply_async((ids[start : start + FAN_OUT_CHUNK],), queue=NOTIFY_QUEUE)


def _publish(ids: list[int], countdown: float | None = None) -> None:
    if not ids:
        return
    with deliver.app.producer_or_acquire() as producer:
        for delivery_id in ids:
            deliver.apply_async((delivery_id,), queue=NOTIFY_QUEUE, countdown=countdown, producer=producer)


@shared_task(name=FAN_OUT_TASK, acks_late=True, reject_on_worker_lost=True)
def fan_out(ids: list[int]) -> int:
    """Queue a chunk of deliveries (a lost chunk is queued again by the sweep)."""
    _publish(ids)
    return len(ids)


@shared_task(
    name=DELIVER_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=8,
)
def deliver(delivery_id: int) -> str:
    """Send one delivery if it is still pending and due; returns what happened."""
    settings: Settings = current_app.config["SETTINGS"]
    limit = self_retry_limit(settings)
    attempt = attempt_delivery(delivery_id, settings, requeue_within=limit)
    if attempt.retry_in is not None and attempt.retry_in <= limit:
        enqueue_deliveries([delivery_id], countdown=attempt.retry_in)
    if attempt.status in ("sent", "failed"):
        count_stage(redis_client(), "notify", attempt.status)
    return attempt.status


@shared_task(name=SWEEP_TASK, autoretry_for=(OperationalError, RedisError), max_retries=2)
def sweep() -> int:
    """Queue the deliveries that are due and not queued; expire alerts; send the daily summaries
    whose time has come. Returns how many queued."""
    settings: Settings = current_app.config["SETTINGS"]
    client = redis_client()
    expired = expire_alerts()
    if expired.fired:
        log.info(
            "expired %d alerts: %s; telling their channels (%d deliveries)",
            len(expired.fired), [a["id"] for a in expired.fired], len(expired.deliveries),
        )  # fmt: skip
        publish(client, ALERTS_CHANNEL, [{"type": "alert_expired", "alert": a} for a in expired.fired])
        enqueue_deliveries(expired.deliveries)
    summaries = send_summaries(settings.base_currency)
    if summaries.fired:
        log.info(
            "sent %d daily summaries: alerts %s (%d deliveries)",
            len(summaries.fired), [a["id"] for a in summaries.fired], len(summaries.deliveries),
        )  # fmt: skip
        publish(client, ALERTS_CHANNEL, [{"type": "alerts", "alerts": summaries.fired}])
        enqueue_deliveries(summaries.deliveries)
    due = claim_due(stale_seconds=settings.broker_visibility_timeout_seconds)
    if due:
        log.info("queueing %d due deliveries (retries, or tasks lost with a worker)", len(due))
    enqueue_deliveries(due)
    record_stage(client, "notify", queued_by_sweep=len(due))
    return len(due)
