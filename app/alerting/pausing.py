"""Pause, snooze and resume an active alert; restore a cancelled one (the page's Undo).

A paused alert (``paused_at``) or a snoozed one (``snoozed_until`` still ahead) stays active, keeps
its place under the one-active-alert-per-rule index and still expires, but the alert check passes
it by (``_CANDIDATES``). Each change bumps ``version`` like an edit, so a check that read the alert
before it updates nothing, and is recorded in ``alert_edits`` beside the edits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError

from app.alerting.alerts import _check_limits, duplicate_of, with_channels
from app.extensions import db
from app.models import Alert, AlertEdit
from app.web.errors import CONFLICT, INVALID, UNPROCESSABLE, ApiError
from app.web.validation import parse_duration, parse_instant

MAX_SNOOZE_SECONDS = 30 * 24 * 3600
MIN_SNOOZE_SECONDS = 60


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _change(alert_id: int, values: dict[str, Any], record: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """Apply ``values`` to the alert if it is active; the alert with its channels. 404 / 409."""
    row = db.session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.status == "active")
        .values(**values, version=Alert.version + 1)
        .returning(Alert.id)
    ).scalar_one_or_none()
    if row is None:
        db.session.rollback()
        alert = db.session.get(Alert, alert_id)
        if alert is None:
            raise ApiError(404, f"no alert with id {alert_id}")
        raise ApiError(CONFLICT, f"alert {alert_id} is {alert.status}: only an active alert can be paused or snoozed")
    if record:
        db.session.add(AlertEdit(alert_id=alert_id, changes=record))
    db.session.commit()
    return with_channels([db.session.get(Alert, alert_id, populate_existing=True)])[0]


def _current(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise ApiError(404, f"no alert with id {alert_id}")
    return alert


def pause(alert_id: int) -> dict[str, Any]:
    """Stop checking the alert until it is resumed (pausing a paused alert changes nothing)."""
    alert = _current(alert_id)
    if alert.paused_at is not None and alert.status == "active":
        return with_channels([alert])[0]
    return _change(alert_id, {"paused_at": func.statement_timestamp()}, {"paused": [False, True]})


def snooze(alert_id: int, body: object, now: datetime | None = None) -> dict[str, Any]:
    """Stop checking the alert until a time: ``{"until": ISO time}`` or ``{"for": "1h"}``
    (1 min to 30 d ahead). A new snooze replaces the one before."""
    example = 'send {"until": "2026-12-07T09:00:00Z"} or {"for": "1h"}'
    if not isinstance(body, dict):
        raise ApiError(INVALID, example, "until")
    if (body.get("until") is None) == (body.get("for") is None):  # neither, or both
        raise ApiError(UNPROCESSABLE, f"{example}: one of the two", "until")
    now = now or datetime.now(UTC)
    if "for" in body:
        until = now + timedelta(seconds=parse_duration(body["for"], "for", MIN_SNOOZE_SECONDS, MAX_SNOOZE_SECONDS))
    else:
        until = parse_instant(body["until"], "until")
        if not timedelta(seconds=MIN_SNOOZE_SECONDS) <= until - now <= timedelta(seconds=MAX_SNOOZE_SECONDS):
            raise ApiError(UNPROCESSABLE, "until must be from 1 min to 30 d ahead", "until")
    before = _current(alert_id).snoozed_until
    return _change(alert_id, {"snoozed_until": until}, {"snoozed_until": [_iso(before), _iso(until)]})


def resume(alert_id: int) -> dict[str, Any]:
    """Check the alert again from the next tick: its pause and its snooze end."""
    alert = _current(alert_id)
    record: dict[str, list[Any]] = {}
    if alert.paused_at is not None:
        record["paused"] = [True, False]
    if alert.snoozed_until is not None and alert.snoozed_until > datetime.now(UTC):
        record["snoozed_until"] = [_iso(alert.snoozed_until), None]
    if not record and alert.status == "active":
        return with_channels([alert])[0]
    return _change(alert_id, {"paused_at": None, "snoozed_until": None}, record)


def restore(alert_id: int, max_active: int | None = None, max_per_symbol: int | None = None) -> dict[str, Any]:
    """Make a cancelled alert active again with its id, fires and deliveries (the page's Undo).
    409 when it is not cancelled, has expired meanwhile, or an identical alert is active now."""
    alert = _current(alert_id)
    if alert.status != "cancelled":
        raise ApiError(CONFLICT, f"alert {alert_id} is {alert.status}: only a cancelled alert can be restored")
    if alert.expires_at is not None and alert.expires_at <= datetime.now(UTC):
        raise ApiError(CONFLICT, f"alert {alert_id} expired at {alert.expires_at.isoformat()}: make a new one")
    _check_limits(alert.symbol, max_active, max_per_symbol)
    try:
        restored = db.session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status == "cancelled")
            .values(status="active", version=Alert.version + 1)
            .returning(Alert.id)
        ).scalar_one_or_none()
    except IntegrityError as exc:
        db.session.rollback()
        if "uq_alerts_active_rule" not in str(exc.orig):
            raise
        raise duplicate_of(alert) from None
    if restored is None:  # restored or changed by another request meanwhile
        db.session.rollback()
        raise ApiError(CONFLICT, f"alert {alert_id} is no longer cancelled")
    db.session.add(AlertEdit(alert_id=alert_id, changes={"status": ["cancelled", "active"]}))
    db.session.commit()
    return with_channels([db.session.get(Alert, alert_id, populate_existing=True)])[0]
