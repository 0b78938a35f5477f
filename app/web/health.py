"""GET /healthz: can this web process reach PostgreSQL, Redis and Kafka, and are prices fresh?"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from app.extensions import db
from app.pipeline.freshness import age_seconds, first_late, last_tick_received_at, stage_report
from app.pipeline.pubsub import closed_markets, read_status
from app.services import redis_client, topic_partitions
from app.web import schema as S
from app.web.schema import documented

bp = Blueprint("health", __name__)


def _database() -> str:
    db.session.execute(text("SELECT 1"))
    return "ok"


def _redis() -> str:
    redis_client().ping()
    return "ok"


KAFKA_TIMEOUT_MS = 1500  # /healthz answers within 2 s whatever is down: an orchestrator's probe waits no longer


def _kafka() -> str:
    settings = current_app.config["SETTINGS"]
    partitions = topic_partitions(settings.kafka_bootstrap_servers, settings.kafka_topic, KAFKA_TIMEOUT_MS)
    if partitions == 0:
        return f"topic {settings.kafka_topic!r} does not exist (run the setup step)"
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {"database": _database, "redis": _redis, "kafka": _kafka}


def _freshness(max_age: float) -> dict[str, Any]:
    """The newest tick's age; past ``max_age`` the check fails naming the first late stage.
    Before the first tick is stored there is nothing to be late with (a fresh start)."""
    now = datetime.now(UTC)
    age = age_seconds(last_tick_received_at(closed_markets(redis_client())), now)
    report = stage_report(read_status(redis_client()), now, max_age)
    late = first_late(report)
    if age is not None and age > max_age:
        where = f"; {late} is {report[late]['verdict']}" if late else ""
        result = f"last tick {age:.0f} s old (limit {max_age:g} s){where}"
    else:
        result = "ok"
    return {"result": result, "last_tick_age_seconds": age, "stages": {k: v["verdict"] for k, v in report.items()}}


@bp.get("/healthz")
@documented(S.HEALTH_ANSWERS, "status", security={})
def healthz() -> tuple[Response, int]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a health check reports every failure, whatever its kind
            results[name] = f"error: {exc.__class__.__name__}: {exc}"
    freshness: dict[str, Any] = {}
    if results["database"] == "ok" and results["redis"] == "ok":
        freshness = _freshness(current_app.config["SETTINGS"].health_max_tick_age_seconds)
        results["prices"] = freshness.pop("result")
    healthy = all(value == "ok" for value in results.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": results} | freshness
    return jsonify(body), 200 if healthy else 503
