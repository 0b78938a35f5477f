"""GET /healthz: can this web process reach PostgreSQL, Redis and Kafka right now?"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from app.extensions import db
from app.services import redis_client, topic_partitions

bp = Blueprint("health", __name__)


def _database() -> str:
    db.session.execute(text("SELECT 1"))
    return "ok"


def _redis() -> str:
    redis_client().ping()
    return "ok"


def _kafka() -> str:
    settings = current_app.config["SETTINGS"]
    partitions = topic_partitions(settings.kafka_bootstrap_servers, settings.kafka_topic)
    if partitions == 0:
        return f"topic {settings.kafka_topic!r} does not exist (run the setup step)"
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {"database": _database, "redis": _redis, "kafka": _kafka}


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a health check reports every failure, whatever its kind
            results[name] = f"error: {exc.__class__.__name__}: {exc}"
    healthy = all(value == "ok" for value in results.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=results), 200 if healthy else 503
