"""The pipeline's status, stage by stage, for the page and for people on call."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify

from app.alerting.deliveries import delivery_counts
from app.market.backfill import progress
from app.pipeline.freshness import age_seconds, last_tick_received_at, stage_report, stale_after_seconds
from app.pipeline.pubsub import closed_markets, read_status
from app.services import redis_client
from app.web import schema as S
from app.web.routes.prices import current_source_state
from app.web.schema import answers, documented

bp = Blueprint("status", __name__)


@bp.get("/api/status")
@documented(answers(200, S.PipelineStatus), "status")
def pipeline_status() -> Response:
    settings = current_app.config["SETTINGS"]
    now = datetime.now(UTC)
    report = stage_report(read_status(redis_client()), now, stale_after_seconds(settings.fetch_interval_seconds))
    return jsonify(
        pipeline=report,
        last_tick_age_seconds=age_seconds(last_tick_received_at(closed_markets(redis_client())), now),
        deliveries=delivery_counts(),
        history=history_summary(),
        price_source=current_app.config["PRICE_SOURCE"],
        source_state=current_source_state(report),
        server_time=now.isoformat(),
    )


def history_summary() -> dict[str, object]:
    """How the loading of the watched symbols' past stands: counts, and each job not done."""
    jobs = progress()
    return {
        "done": sum(job["state"] == "done" for job in jobs),
        "failed": sum(job["state"] == "failed" for job in jobs),
        "loading": [job for job in jobs if job["state"] not in ("done", "failed")],
    }
