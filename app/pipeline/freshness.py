"""How fresh the data is: the age of the newest stored tick and a verdict per pipeline stage.

Freshness comes from the data, not from a socket being open: a stalled worker or beat leaves
every connection up while prices stop. /healthz and /api/status both answer from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from app.extensions import db

# In pipeline order: the first late stage is where a stall starts.
STAGES = ("fetch", "bridge", "persist", "alerts")
# Stages that run on their own, slower clock: late only after missing three of their runs.
STAGE_INTERVALS = {"maintenance": 3600.0, "backfill": 5.0}
VERDICTS = ("ok", "late", "failing")
STALE_INTERVALS = 3  # a price older than this many fetch intervals is not live


def stale_after_seconds(fetch_interval_seconds: float) -> float:
    """When a price, or a stage's last run, stops counting as live (the page uses the same)."""
    return STALE_INTERVALS * fetch_interval_seconds


def last_tick_received_at(closed: Sequence[str] = ()) -> datetime | None:
    """When the newest stored tick of any active symbol arrived (one index probe per symbol),
    leaving out the ``closed`` markets' symbols (their last tick is the close)."""
    return db.session.scalar(
        text(
            """
            SELECT max(t.received_at) FROM symbols s
            CROSS JOIN LATERAL (SELECT received_at FROM ticks WHERE ticks.symbol = s.symbol
                                ORDER BY observed_at DESC LIMIT 1) t
            WHERE s.active AND NOT s.symbol = ANY(:closed)
            """
        ),
        {"closed": list(closed)},
    )


def age_seconds(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else round((now - at).total_seconds(), 1)


def stage_report(status: dict[str, dict[str, Any]], now: datetime, late_after: float) -> dict[str, dict[str, Any]]:
    """Each stage's figures with ``at`` as ISO 8601, its ``age_seconds`` and a ``verdict``:
    failing (its last run recorded an error), late (no run for ``late_after`` seconds), or ok."""
    report: dict[str, dict[str, Any]] = {}
    for stage in dict.fromkeys([*STAGES, *status]):
        fields = dict(status.get(stage, {}))
        at = fields.pop("at", None)
        ran = None if at is None else datetime.fromtimestamp(at, UTC)
        age = age_seconds(ran, now)
        if fields.get("last_error"):
            verdict = "failing"
        elif age is None or age > max(late_after, 3 * STAGE_INTERVALS.get(stage, 0)):
            verdict = "late"
        else:
            verdict = "ok"
        report[stage] = fields | {"at": ran.isoformat() if ran else None, "age_seconds": age, "verdict": verdict}
    return report


def first_late(report: dict[str, dict[str, Any]]) -> str | None:
    """The first stage in pipeline order that is not ok: where to look."""
    return next((stage for stage in STAGES if report[stage]["verdict"] != "ok"), None)
