"""REST API: symbols, latest prices, history, alerts, pipeline status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app import alerts, prices
from app.errors import ApiError
from app.models import STATUSES
from app.pubsub import read_status
from app.services import redis_client
from app.validation import normalise_symbol, parse_alert, parse_points

bp = Blueprint("api", __name__)


@bp.get("/api/symbols")
def symbols() -> Response:
    return jsonify(symbols=prices.active_symbols())


@bp.get("/api/prices/latest")
def latest() -> Response:
    return jsonify(prices=prices.latest_prices())


@bp.get("/history/<symbol>")
def history(symbol: str) -> Response:
    symbol = normalise_symbol(symbol)
    if not prices.symbol_exists(symbol):
        raise ApiError(404, f"unknown symbol {symbol}", "symbol")
    points = parse_points(request.args.get("points"), current_app.config["HISTORY_POINTS"])
    return jsonify(symbol=symbol, points=prices.history(symbol, points))


@bp.get("/api/alerts")
def list_alerts() -> Response:
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(STATUSES)}", "status")
    return jsonify(alerts=alerts.list_alerts(status))


@bp.post("/api/alerts")
def create_alert() -> tuple[Response, int]:
    if not request.is_json:
        raise ApiError(415, "send the alert as JSON (Content-Type: application/json)")
    symbol, direction, threshold = parse_alert(request.get_json(silent=True))
    if not prices.symbol_exists(symbol):
        raise ApiError(400, f"unknown symbol {symbol}", "symbol")
    return jsonify(alert=alerts.create_alert(symbol, direction, threshold)), 201


@bp.delete("/api/alerts/<int:alert_id>")
def cancel_alert(alert_id: int) -> Response:
    alert = alerts.cancel_alert(alert_id)
    if alert is None:
        raise ApiError(404, f"no alert with id {alert_id}")
    if alert["status"] != "cancelled":
        raise ApiError(409, f"alert {alert_id} is {alert['status']}, not active")
    return jsonify(alert=alert)


@bp.get("/api/status")
def pipeline_status() -> Response:
    status: dict[str, Any] = read_status(redis_client())
    return jsonify(pipeline=status, price_source=current_app.config["PRICE_SOURCE"])
