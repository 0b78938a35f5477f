"""Storage upkeep, hourly from beat: tick partitions ahead, retention of raw ticks and 1-minute candles.

Raw ticks go a whole UTC day at a time once the day ended RAW_RETENTION_DAYS ago (a partition
detached concurrently, then dropped); 1-minute candles older than CANDLES_1M_RETENTION_DAYS are
deleted in short batches; hourly candles stay. Nothing inside its retention is touched.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from celery import shared_task
from flask import current_app

from app.market.candles import prune_minutes
from app.market.partitions import drop_partitions_before, ensure_ahead
from app.pipeline.freshness import STAGE_INTERVALS
from app.pipeline.pubsub import record_stage
from app.services import redis_client

log = logging.getLogger(__name__)
MAINTAIN_TASK = "tasks.maintenance.maintain_storage"
MAINTAIN_INTERVAL_SECONDS = STAGE_INTERVALS["maintenance"]


@shared_task(name=MAINTAIN_TASK, soft_time_limit=600, time_limit=660)
def maintain_storage() -> dict[str, int]:
    settings = current_app.config["SETTINGS"]
    now = datetime.now(UTC)
    made = ensure_ahead(now.date())
    dropped = drop_partitions_before(now - timedelta(days=settings.raw_retention_days))
    pruned = prune_minutes(now - timedelta(days=settings.candles_1m_retention_days))
    result = {"partitions_made": len(made), "raw_days_dropped": len(dropped), "minute_candles_deleted": pruned}
    record_stage(redis_client(), "maintenance", **result)
    if pruned:
        log.info("deleted %d one-minute candles older than %d days", pruned, settings.candles_1m_retention_days)
    return result
