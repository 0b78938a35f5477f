"""The watchlist: which symbols are fetched, in the order the page shows them."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request

from app.market import search, watchlist
from app.market.sources import Listing, PriceSource, SourceError, UnknownSymbol
from app.market.sources.backoff import Backoff
from app.market.sources.chosen import crypto_source, price_source
from app.market.sources.routes import is_crypto
from app.pipeline.pubsub import tell_pages
from app.services import redis_client
from app.web import schema as S
from app.web.errors import UNPROCESSABLE, ApiError
from app.web.routes import json_body
from app.web.schema import answers, documented
from app.web.validation import normalise_symbol, parse_search, parse_whole

bp = Blueprint("watchlist", __name__)


@bp.get("/api/symbols")
@documented(answers(200, S.SymbolList), "watchlist")
def symbols() -> Response:
    """The watchlist in its order, with what the price source says each symbol is."""
    return jsonify(symbols=watchlist.watchlist())


@bp.get("/api/symbols/search")
@documented(answers(200, S.SymbolSearch, 503), "watchlist", query=S.SearchQuery)
def search_symbols() -> Response:
    """Symbols by name or code, as the price source finds them ("apple": AAPL ...), best first."""
    query = parse_search(request.args.get("q"))
    limit = parse_whole(request.args.get("limit"), "limit", 8, 1, search.MAX_RESULTS)
    source = price_source()
    resting = Backoff(redis_client(), source.name).resting()
    if resting is not None:  # asking now would only prolong it
        raise ApiError(503, f"could not search: {source.name} is {resting.describe(time.time())}", "q")
    try:
        return jsonify(search.search(query, limit))
    except SourceError as exc:
        raise ApiError(503, f"could not search with the price source ({source.name}): {exc}", "q") from None


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
