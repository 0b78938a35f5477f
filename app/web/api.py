"""REST API: symbols, latest prices, history, alerts and their events, channels, pipeline status."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.alerting import alerts, channels
from app.alerting.channels import send
from app.alerting.deliveries import delivery_counts
from app.market import prices, ranges, watchlist
from app.market.sources import Listing, PriceSource, SourceError, UnknownSymbol
from app.market.sources.backoff import Backoff, source_state
from app.market.sources.chosen import crypto_source, price_source
from app.market.sources.routes import is_crypto
from app.models import STATUSES
from app.pipeline.freshness import age_seconds, last_tick_received_at, stage_report, stale_after_seconds
from app.pipeline.pubsub import closed_markets, read_markets, read_status, tell_pages
from app.services import redis_client
from app.web import schema as S
from app.web.errors import UNPROCESSABLE, ApiError
from app.web.schema import answers, documented, openapi_document
from app.web.validation import normalise_symbol, parse_alert, parse_points

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this API, made from the routes' declarations (app/web/schema.py)."""
    return jsonify(openapi_document())


@bp.get("/api/symbols")
@documented(answers(200, S.SymbolList), "watchlist")
def symbols() -> Response:
    """The watchlist in its order, with what the price source says each symbol is."""
    return jsonify(symbols=watchlist.watchlist())


@bp.post("/api/symbols")
@documented(answers(201, S.OneSymbol, 409, 413, 415, 422, 503), "watchlist", json=S.NewSymbol)
def add_symbol() -> tuple[Response, int]:
    """Watch a symbol: checked once against the price source, fetched from its next run on."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, 'send a JSON object: {"symbol": "AAPL"}', "symbol")
    symbol = normalise_symbol(body.get("symbol"))
    if watchlist.is_watched(symbol):  # no need to ask the source (add() checks again, under its lock)
        raise watchlist.already_watched(symbol)
    source = price_source()
    resting = Backoff(redis_client(), source.name).resting()
    if resting is not None:  # asking now would only prolong it
        raise ApiError(503, f"could not check {symbol}: {source.name} is {resting.describe(time.time())}", "symbol")
    listing = _check(source, symbol)
    crypto = crypto_source()
    if crypto is not None and is_crypto(symbol, listing.quote_type):  # CRYPTO_SOURCE must price it too
        _check(crypto, symbol)
    added = watchlist.add(listing, current_app.config["SETTINGS"].max_symbols)
    tell_pages(redis_client(), {"type": "watchlist", "symbols": watchlist.watchlist()})
    return jsonify(symbol=added), 201


def _check(source: PriceSource, symbol: str) -> Listing:
    """What ``source`` says ``symbol`` is; 400 with its reason if it has none, 503 if it did not answer."""
    try:
        return source.describe(symbol)
    except UnknownSymbol as exc:
        raise ApiError(UNPROCESSABLE, f"{symbol} is not known: {exc}", "symbol") from None
    except SourceError as exc:
        message = f"could not check {symbol} with the price source ({source.name}): {exc}"
        raise ApiError(503, message, "symbol") from None


@bp.delete("/api/symbols/<symbol>")
@documented(answers(200, S.OneSymbol, 404), "watchlist")
def remove_symbol(symbol: str) -> Response:
    """Stop watching a symbol: no more fetches; its history and alerts stay (alerts wait, inactive)."""
    removed = watchlist.remove(normalise_symbol(symbol))
    tell_pages(redis_client(), {"type": "watchlist", "symbols": watchlist.watchlist()})
    return jsonify(symbol=removed)


@bp.patch("/api/symbols")
@documented(answers(200, S.SymbolList, 413, 415, 422), "watchlist", json=S.SymbolOrder)
def reorder_symbols() -> Response:
    """Put the watchlist in a new order: ``order`` names each watched symbol once."""
    body = json_body()
    order = body.get("order") if isinstance(body, dict) else None
    if not isinstance(order, list) or not order:
        raise ApiError(400, "order must be a list of the watchlist's symbols", "order")
    ordered = watchlist.reorder([normalise_symbol(s, "order") for s in order])
    tell_pages(redis_client(), {"type": "watchlist", "symbols": ordered})
    return jsonify(symbols=ordered)


@bp.get("/api/prices/latest")
@documented(answers(200, S.LatestPrices), "prices")
def latest() -> Response:
    """Newest prices, with the server's clock and the fetch cadence: the page judges freshness
    against its own clock corrected by ``server_time``."""
    settings = current_app.config["SETTINGS"]
    return jsonify(
        prices=prices.latest_prices(),
        server_time=datetime.now(UTC).isoformat(),
        fetch_interval_seconds=settings.fetch_interval_seconds,
        stale_after_seconds=stale_after_seconds(settings.fetch_interval_seconds),
        source_state=_source_state(read_status(redis_client())),
        markets=read_markets(redis_client()),
    )


def _source_state(status: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Whether the source the fetch uses (PRICE_SOURCE's, or auto's pick) is resting after throttling."""
    name = status.get("fetch", {}).get("source") or current_app.config["PRICE_SOURCE"]
    return source_state(name, Backoff(redis_client(), name).resting())


@bp.get("/history/<symbol>")
@documented(answers(200, S.History, 404), "prices", query=S.PointsQuery)
def history(symbol: str) -> Response:
    symbol = normalise_symbol(symbol)
    if not prices.symbol_exists(symbol):
        raise ApiError(404, f"unknown symbol {symbol}", "symbol")
    points = parse_points(request.args.get("points"), current_app.config["HISTORY_POINTS"])
    return jsonify(symbol=symbol, points=prices.history(symbol, points))


@bp.get("/api/history/<symbol>")
@documented(answers(200, S.HistoryRange, 404, 422), "prices", query=S.RangeQuery)
def history_range(symbol: str) -> Response:
    """OHLC buckets over a range (1h, 24h, 7d, 30d, 1y, all) or from/to, at most max_points."""
    symbol = normalise_symbol(symbol)
    if not prices.symbol_exists(symbol):
        raise ApiError(404, f"unknown symbol {symbol}", "symbol")
    settings = current_app.config["SETTINGS"]
    now = datetime.now(UTC)
    span = ranges.parse_span(request.args, now)
    return jsonify(
        ranges.history_range(symbol, span, now, settings.raw_retention_days, settings.candles_1m_retention_days)
    )


@bp.get("/api/sparklines")
@documented(answers(200, S.Sparklines), "prices")
def sparklines() -> Response:
    """The last 24 h of each active symbol in 30-minute closes, for the cards."""
    return jsonify(bucket_seconds=1800, symbols=prices.sparklines())


@bp.get("/api/alerts")
@documented(answers(200, S.AlertList), "alerts", query=S.AlertsQuery)
def list_alerts() -> Response:
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(STATUSES)}", "status")
    return jsonify(alerts=alerts.list_alerts(status))


def json_body() -> object:
    if not request.is_json:
        raise ApiError(415, "send the body as JSON (Content-Type: application/json)")
    return request.get_json(silent=True)


@bp.post("/api/alerts")
@documented(answers(201, S.OneAlert, 409, 413, 415, 422), "alerts", json=S.NewAlert)
def create_alert() -> tuple[Response, int]:
    spec = parse_alert(json_body())
    if not prices.symbol_exists(spec.symbol):
        raise ApiError(UNPROCESSABLE, f"unknown symbol {spec.symbol}", "symbol")
    settings = current_app.config["SETTINGS"]
    alert = alerts.create_alert(spec, settings.max_active_alerts, settings.max_alerts_per_symbol)
    tell_pages(redis_client(), {"type": "alert_created", "alert": alert})
    return jsonify(alert=alert), 201


@bp.get("/api/alerts/<int:alert_id>/events")
@documented(answers(200, S.AlertEvents, 404), "alerts")
def alert_events(alert_id: int) -> Response:
    alert = alerts.get_alert(alert_id)
    if alert is None:
        raise ApiError(404, f"no alert with id {alert_id}")
    return jsonify(alert=alert, events=alerts.alert_events(alert_id))


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
        price_source=current_app.config["PRICE_SOURCE"],
        source_state=_source_state(report),
        server_time=now.isoformat(),
    )


@bp.get("/api/channels")
@documented(answers(200, S.ChannelList), "channels")
def list_channels() -> Response:
    return jsonify(channels=channels.list_channels())


@bp.post("/api/channels")
@documented(answers(201, S.OneChannel, 409, 413, 415, 422), "channels", json=S.NewChannel)
def create_channel() -> tuple[Response, int]:
    max_channels = current_app.config["SETTINGS"].max_channels
    return jsonify(channel=channels.create_channel(json_body(), max_channels)), 201


@bp.patch("/api/channels/<int:channel_id>")
@documented(answers(200, S.OneChannel, 404, 413, 415), "channels", json=S.ChannelChange)
def update_channel(channel_id: int) -> Response:
    body = json_body()
    if not isinstance(body, dict) or "enabled" not in body:
        raise ApiError(400, 'send {"enabled": true or false}', "enabled")
    return jsonify(channel=channels.set_enabled(channel_id, body["enabled"]))


@bp.delete("/api/channels/<int:channel_id>")
@documented(answers(200, S.OneChannel, 404), "channels")
def delete_channel(channel_id: int) -> Response:
    return jsonify(channel=channels.delete_channel(channel_id))


@bp.post("/api/channels/<int:channel_id>/test")
@documented(answers(200, S.TestSend, 404), "channels")
def test_channel(channel_id: int) -> Response:
    """Send a test message now; the answer says whether the channel took it."""
    channel = channels.get_channel(channel_id)
    settings = current_app.config["SETTINGS"]
    error = send(
        channel.url,
        "Stock Ticker: test message",
        f"This is a test of the channel {channel.name!r}. Alerts will arrive like this.\n"
        f"Dashboard: {settings.public_url}",
        settings.notify_timeout_seconds,
    )
    return jsonify(channel=channel.id, sent=error is None, error=error)
