"""Prices: the newest, the history at every range, the cards' sparklines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from flask import Blueprint, Response, current_app, jsonify, request

from app.market import indicators, prices, ranges
from app.market.context import market_context
from app.market.sources.backoff import Backoff, source_state
from app.pipeline.freshness import stale_after_seconds
from app.pipeline.pubsub import read_market, read_markets, read_status
from app.services import redis_client
from app.web import schema as S
from app.web.errors import UNPROCESSABLE, ApiError
from app.web.schema import answers, documented
from app.web.validation import normalise_symbol, parse_points

bp = Blueprint("prices", __name__)


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
        source_state=current_source_state(read_status(redis_client())),
        markets=read_markets(redis_client()),
    )


def current_source_state(status: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Whether the source the fetch uses (PRICE_SOURCE's, or auto's pick) is resting after throttling."""
    name = status.get("fetch", {}).get("source") or current_app.config["PRICE_SOURCE"]
    return source_state(name, Backoff(redis_client(), name).resting())


@bp.get("/api/context")
@documented(answers(200, S.MarketContext), "prices")
def context() -> Response:
    """Each watched symbol's day (open, high, low), previous close, 52-week range and volume."""
    return jsonify(symbols=market_context(datetime.now(UTC)))


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
    """OHLC buckets over a range (1h, 24h, 7d, 30d, 1y, all) or from/to, at most max_points, and
    the indicators asked (``indicators=sma:20,ema:50,bb:20:2,rsi:14``) on the same buckets."""
    symbol = normalise_symbol(symbol)
    settings = current_app.config["SETTINGS"]
    now = datetime.now(UTC)
    span = ranges.parse_span(request.args, now, closed_since(symbol))
    try:
        specs = indicators.parse_specs(request.args.get("indicators"))
    except indicators.SpecError as exc:
        status = UNPROCESSABLE if isinstance(exc, indicators.OutOfRange) else 400
        raise ApiError(status, f"indicators: {exc}", "indicators") from exc
    answer = ranges.history_range(
        symbol, span, now, settings.raw_retention_days, settings.candles_1m_retention_days, specs
    )
    if answer is None:
        raise ApiError(404, f"unknown symbol {symbol}", "symbol")
    # Its points are JSON already; keys sorted as jsonify sorts every other answer's.
    return Response(msgspec.json.encode(answer, order="sorted"), mimetype="application/json")


def closed_since(symbol: str) -> datetime | None:
    """When the symbol's market closed, if it is closed now (as the last fetch judged its hours)."""
    session = read_market(redis_client(), symbol)
    if session is None or session["state"] != "closed" or not session.get("last_close"):
        return None
    return datetime.fromisoformat(session["last_close"])


@bp.get("/api/sparklines")
@documented(answers(200, S.Sparklines), "prices")
def sparklines() -> Response:
    """The last 24 h of each active symbol in 30-minute closes, for the cards."""
    return jsonify(bucket_seconds=1800, symbols=prices.sparklines())
