"""Alerts: list, create, edit, pause, snooze, cancel and restore, and each one's fires with their deliveries."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, current_app, jsonify, request

from app.alerting import alerts, edits, pausing
from app.market import prices
from app.models import STATUSES
from app.pipeline.pubsub import tell_pages
from app.services import redis_client
from app.web import schema as S
from app.web.errors import UNPROCESSABLE, ApiError
from app.web.routes import json_body
from app.web.schema import answers, documented
from app.web.validation import MAX_ID, parse_alert, parse_whole

bp = Blueprint("alerts", __name__)


@bp.get("/api/alerts")
@documented(answers(200, S.AlertList), "alerts", query=S.AlertsQuery)
def list_alerts() -> Response:
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(STATUSES)}", "status")
    return jsonify(alerts=alerts.list_alerts(status))


@bp.get("/api/alerts/fired")
@documented(answers(200, S.FiredAlerts), "alerts", query=S.FiredQuery)
def fired_alerts() -> Response:
    """Fires after event ``after``, oldest first (the page asks for what it missed while its socket
    was down); without ``after``, the newest. ``last_event_id`` is where to ask from next."""
    after = request.args.get("after")
    limit = parse_whole(request.args.get("limit"), "limit", alerts.FIRED_LIMIT, 1, alerts.MAX_FIRED_LIMIT)
    return jsonify(alerts.fires_after(None if after is None else parse_whole(after, "after", 0, 0, MAX_ID), limit))


@bp.post("/api/alerts")
@documented(answers(201, S.OneAlert, 409, 413, 415, 422), "alerts", json=S.NewAlert)
def create_alert() -> tuple[Response, int]:
    settings = current_app.config["SETTINGS"]
    spec = parse_alert(json_body(), zone=getattr(settings.timezone, "key", None) or "UTC")
    if spec.symbol is not None and not prices.symbol_exists(spec.symbol):
        raise ApiError(UNPROCESSABLE, f"unknown symbol {spec.symbol}", "symbol")
    if spec.rule == "total":  # its threshold is in BASE_CURRENCY as it is now
        spec = replace(spec, currency=settings.base_currency)
    alert = alerts.create_alert(spec, settings.max_active_alerts, settings.max_alerts_per_symbol)
    tell_pages(redis_client(), {"type": "alert_created", "alert": alert})
    return jsonify(alert=alert), 201


@bp.get("/api/alerts/<int:alert_id>")
@documented(answers(200, S.OneAlert, 404), "alerts")
def get_alert(alert_id: int) -> Response:
    return jsonify(alert=_found(alert_id))


@bp.patch("/api/alerts/<int:alert_id>")
@documented(answers(200, S.OneAlert, 404, 409, 413, 415, 422), "alerts", json=S.AlertChange)
def edit_alert(alert_id: int) -> Response:
    """Change an active alert in place: its id, fires and deliveries stay; the edit is recorded."""
    alert = edits.edit_alert(alert_id, json_body())
    if alert is None:
        raise ApiError(404, f"no alert with id {alert_id}")
    tell_pages(redis_client(), {"type": "alert_changed", "alert": alert})
    return jsonify(alert=alert)


@bp.post("/api/alerts/<int:alert_id>/pause")
@documented(answers(200, S.OneAlert, 404, 409), "alerts")
def pause_alert(alert_id: int) -> Response:
    """Stop checking the alert until it is resumed; it stays active and still expires."""
    return _changed(pausing.pause(alert_id))


@bp.post("/api/alerts/<int:alert_id>/snooze")
@documented(answers(200, S.OneAlert, 404, 409, 413, 415, 422), "alerts", json=S.Snooze)
def snooze_alert(alert_id: int) -> Response:
    """Stop checking the alert until a time, given as ``until`` or as a duration ``for``."""
    return _changed(pausing.snooze(alert_id, json_body()))


@bp.post("/api/alerts/<int:alert_id>/resume")
@documented(answers(200, S.OneAlert, 404, 409), "alerts")
def resume_alert(alert_id: int) -> Response:
    """End the alert's pause and snooze: it is checked from the next tick."""
    return _changed(pausing.resume(alert_id))


@bp.post("/api/alerts/<int:alert_id>/restore")
@documented(answers(200, S.OneAlert, 404, 409), "alerts")
def restore_alert(alert_id: int) -> Response:
    """Make a cancelled alert active again, with its id, fires and deliveries (the page's Undo)."""
    settings = current_app.config["SETTINGS"]
    alert = pausing.restore(alert_id, settings.max_active_alerts, settings.max_alerts_per_symbol)
    tell_pages(redis_client(), {"type": "alert_created", "alert": alert})
    return jsonify(alert=alert)


def _changed(alert: dict) -> Response:
    tell_pages(redis_client(), {"type": "alert_changed", "alert": alert})
    return jsonify(alert=alert)


@bp.get("/api/alerts/<int:alert_id>/events")
@documented(answers(200, S.AlertEvents, 404), "alerts")
def alert_events(alert_id: int) -> Response:
    """The alert's fires (each with its deliveries) and its edits, newest first."""
    alert = _found(alert_id)
    return jsonify(alert=alert, events=alerts.alert_events(alert_id), edits=edits.alert_edits(alert_id))


def _found(alert_id: int) -> dict:
    alert = alerts.get_alert(alert_id)
    if alert is None:
        raise ApiError(404, f"no alert with id {alert_id}")
    return alert


@bp.delete("/api/alerts/<int:alert_id>")
@documented(answers(200, S.OneAlert, 404, 409), "alerts")
def cancel_alert(alert_id: int) -> Response:
    alert = alerts.cancel_alert(alert_id)
    if alert is None:
        raise ApiError(404, f"no alert with id {alert_id}")
    if alert["status"] != "cancelled":
        raise ApiError(409, f"alert {alert_id} is {alert['status']}, not active")
    tell_pages(redis_client(), {"type": "alert_cancelled", "alert": alert})
    return jsonify(alert=alert)
