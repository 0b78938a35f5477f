"""Editing an alert in place (PATCH /api/alerts/<id>): the same id, its fires and deliveries kept.

The change is laid over the alert as it stands and the whole is checked as a new alert would be
(``parse_alert``), so an edited alert is always one the API could have made. It is applied by one
UPDATE that, like the alert check's, only touches the version it read: an edit racing a fire
re-reads the alert and lays the change over what the fire left (armed, fire_count, triggered_at),
so neither is lost. Each edit is recorded with every changed field, before and after.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.alerting.alerts import duplicate_of, with_channels
from app.alerting.channels import check_channel_ids
from app.extensions import db
from app.models import Alert, AlertChannel, AlertEdit
from app.web.errors import CONFLICT, INVALID, UNPROCESSABLE, ApiError
from app.web.validation import AlertSpec, parse_alert

ATTEMPTS = 5  # re-reads when a fire changed the alert between the read and the update
# what a rule of another kind does not take
RULE_FIELDS = (
    "direction",
    "threshold",
    "percent",
    "window",
    "indicator",
    "period",
    "timeframe",
    "level",
    "at",
    "timezone",
)
# The stored column of each field the API names, as compared and recorded.
COLUMNS = {
    "rule": "rule", "direction": "direction", "threshold": "threshold", "percent": "change_percent",
    "window": "window_seconds", "indicator": "indicator", "period": "period", "timeframe": "timeframe",
    "level": "level", "at": "daily_at", "timezone": "timezone", "frequency": "frequency",
    "cooldown": "cooldown_seconds", "expires_at": "expires_at", "note": "note",
}  # fmt: skip
# What makes the check see the alert anew: a new condition is armed again, as a new alert is.
CONDITION = (
    "rule", "direction", "threshold", "percent", "window", "indicator", "period", "timeframe", "level", "at", "timezone"
)  # fmt: skip


def edit_alert(alert_id: int, change: object) -> dict[str, Any] | None:
    """Apply ``change`` (any of the fields of a new alert but the symbol) to an active alert; the
    alert with its channels, or None when there is no such alert. 409 when it is not active or the
    edit would make it the same as another active alert; 400/422 as for a new alert."""
    if not isinstance(change, dict):
        raise ApiError(INVALID, 'send a JSON object with the fields to change, e.g. {"threshold": 105000}')
    for _ in range(ATTEMPTS):
        alert = db.session.get(Alert, alert_id, populate_existing=True)
        if alert is None:
            return None
        if alert.status != "active":
            db.session.rollback()
            raise ApiError(CONFLICT, f"alert {alert_id} is {alert.status}: only an active alert can be edited")
        channels = _channel_ids(alert.id)
        spec = _laid_over(alert, channels, change)
        changes = _changes(alert, channels, spec)
        if not changes:
            db.session.rollback()
            return with_channels([alert])[0]
        if _apply(alert, spec, changes):
            db.session.commit()
            return with_channels([db.session.get(Alert, alert_id, populate_existing=True)])[0]
        db.session.rollback()  # a fire came between: read it again
    raise ApiError(CONFLICT, f"alert {alert_id} kept changing while it was edited: try again")


def _laid_over(alert: Alert, channels: list[int], change: dict[str, Any]) -> AlertSpec:
    """The change over the alert as it stands, checked as a new alert is."""
    asked = change.get("symbol")
    if "symbol" in change and (None if asked is None else str(asked).strip().upper()) != alert.symbol:
        raise ApiError(UNPROCESSABLE, "symbol cannot change: make a new alert for another symbol", "symbol")
    body = _as_body(alert, channels)
    if change.get("rule", alert.rule) != alert.rule:
        body = {k: v for k, v in body.items() if k not in RULE_FIELDS}  # another kind of rule: its own fields
    if "frequency" in change:
        body.pop("cooldown", None)  # once takes none; every_time its own or the default
    keep_expiry = "expires_at" not in change  # as it is, even if it is close: it expires on its own
    merged = {k: v for k, v in (body | change).items() if not (keep_expiry and k == "expires_at")}
    spec = parse_alert(merged)
    if spec.rule == "total":  # in the currency it was made in (a total made now: BASE_CURRENCY's)
        spec = replace(spec, currency=alert.currency or current_app.config["SETTINGS"].base_currency)
    return replace(spec, expires_at=alert.expires_at) if keep_expiry else spec


def _as_body(alert: Alert, channels: list[int]) -> dict[str, Any]:
    """The alert as the body of POST /api/alerts that would make it."""
    body: dict[str, Any] = {"symbol": alert.symbol, "rule": alert.rule, "direction": alert.direction}
    if alert.rule == "change":
        body |= {"percent": str(alert.change_percent), "window": alert.window_seconds}
    elif alert.rule == "pnl":
        body["percent"] = str(alert.change_percent)
    elif alert.rule in ("cross", "rsi"):
        body |= {"indicator": alert.indicator, "period": alert.period, "timeframe": alert.timeframe}
        if alert.level is not None:
            body["level"] = str(alert.level)
    elif alert.rule == "daily":
        body |= {"at": f"{alert.daily_at:%H:%M}", "timezone": alert.timezone}
    else:
        body["threshold"] = str(alert.threshold)
    if alert.rule != "daily":  # a summary goes out every day: it takes neither
        body["frequency"] = alert.frequency
        if alert.frequency == "every_time":
            body["cooldown"] = alert.cooldown_seconds
    body["note"] = alert.note
    body["channels"] = channels
    return body


def _channel_ids(alert_id: int) -> list[int]:
    query = select(AlertChannel.channel_id).where(AlertChannel.alert_id == alert_id).order_by(AlertChannel.channel_id)
    return list(db.session.scalars(query))


def _changes(alert: Alert, channels: list[int], spec: AlertSpec) -> dict[str, list[Any]]:
    """Each field the edit changes: [before, after], as JSON."""
    after = {
        "rule": spec.rule, "direction": spec.direction, "threshold": spec.threshold,
        "percent": spec.change_percent, "window": spec.window_seconds, "indicator": spec.indicator,
        "period": spec.period, "timeframe": spec.timeframe, "level": spec.level, "at": spec.daily_at,
        "timezone": spec.timezone, "frequency": spec.frequency, "cooldown": spec.cooldown_seconds,
        "expires_at": spec.expires_at, "note": spec.note,
    }  # fmt: skip
    changes = {
        field: [_json(getattr(alert, column)), _json(after[field])]
        for field, column in COLUMNS.items()
        if getattr(alert, column) != after[field]
    }
    if channels != sorted(spec.channels):
        changes["channels"] = [channels, sorted(spec.channels)]
    return changes


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return value


def _apply(alert: Alert, spec: AlertSpec, changes: dict[str, list[Any]]) -> bool:
    """One UPDATE of the version read (False: a fire changed it since), the channels, the record."""
    check_channel_ids(spec.channels)
    values: dict[str, Any] = {
        "rule": spec.rule, "direction": spec.direction, "threshold": spec.threshold,
        "change_percent": spec.change_percent, "window_seconds": spec.window_seconds,
        "indicator": spec.indicator, "period": spec.period, "timeframe": spec.timeframe, "level": spec.level,
        "daily_at": spec.daily_at, "timezone": spec.timezone, "frequency": spec.frequency,
        "cooldown_seconds": spec.cooldown_seconds,
        "expires_at": spec.expires_at, "note": spec.note, "version": Alert.version + 1,
    }  # fmt: skip
    if any(field in changes for field in CONDITION):
        values["armed"] = spec.rule != "cross"  # as a new alert: a cross waits for the other side first
    statement = (
        update(Alert)
        .where(Alert.id == alert.id, Alert.version == alert.version, Alert.status == "active")
        .values(**values)
        .returning(Alert.id)
    )
    try:
        if db.session.execute(statement).scalar_one_or_none() is None:
            return False
    except IntegrityError as exc:
        db.session.rollback()
        if "uq_alerts_active_rule" not in str(exc.orig):
            raise
        raise duplicate_of(spec) from None
    if "channels" in changes:
        db.session.execute(delete(AlertChannel).where(AlertChannel.alert_id == alert.id))
        if spec.channels:
            db.session.execute(insert(AlertChannel), [{"alert_id": alert.id, "channel_id": c} for c in spec.channels])
    db.session.add(AlertEdit(alert_id=alert.id, changes=changes))
    return True


def alert_edits(alert_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """An alert's edits, newest first."""
    rows = db.session.scalars(
        select(AlertEdit).where(AlertEdit.alert_id == alert_id).order_by(AlertEdit.id.desc()).limit(limit)
    )
    return [{"id": e.id, "edited_at": e.edited_at.isoformat(), "changes": e.changes} for e in rows]
