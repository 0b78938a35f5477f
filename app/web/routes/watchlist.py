"""The watchlists: which symbols are fetched, on which named lists (the page's tabs), in what order.

/api/symbols is every watched symbol; its POST and PATCH act on a list (the first unless one is
named) and its DELETE stops watching a symbol on every list. /api/watchlists edits the lists.
"""

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
from app.web.validation import MAX_ID, normalise_symbol, parse_name, parse_search, parse_whole, whole_number

bp = Blueprint("watchlist", __name__)


@bp.get("/api/symbols")
@documented(answers(200, S.SymbolList), "watchlist")
def symbols() -> Response:
    """Every watched symbol in the lists' order, with what the price source says each is, and the lists."""
    return jsonify(symbols=watchlist.watchlist(), watchlists=watchlist.lists())


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
@documented(answers(201, S.OneSymbol, 404, 409, 413, 415, 422, 503), "watchlist", json=S.NewSymbol)
def add_symbol() -> tuple[Response, int]:
    """Watch a symbol: checked once against the price source, fetched from its next run on; put
    last on the list ``watchlist`` names (the first list if none)."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, 'send a JSON object: {"symbol": "AAPL"}', "symbol")
    list_id = _list_id(body.get("watchlist"))
    return _add(normalise_symbol(body.get("symbol")), list_id)


@bp.post("/api/watchlists/<int:list_id>/symbols")
@documented(answers(201, S.OneSymbol, 404, 409, 413, 415, 422, 503), "watchlist", json=S.ListedSymbol)
def add_to_list(list_id: int) -> tuple[Response, int]:
    """Put a symbol last on a list; a symbol not watched yet is checked with the price source first."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, 'send a JSON object: {"symbol": "AAPL"}', "symbol")
    return _add(normalise_symbol(body.get("symbol")), list_id)


def _add(symbol: str, list_id: int | None) -> tuple[Response, int]:
    target = watchlist.chosen(list_id)  # 404 before asking the source about anything
    if watchlist.is_on(symbol, target.id):  # no need to ask the source (add() checks again, under its lock)
        raise watchlist.already_on(symbol, target.name)
    listing = None if watchlist.is_watched(symbol) else _vouched(symbol)
    added = watchlist.add(symbol, target.id, current_app.config["SETTINGS"].max_symbols, listing)
    _tell()
    return jsonify(symbol=added), 201


def _vouched(symbol: str) -> Listing:
    """What the price source (and the crypto source, for crypto) says ``symbol`` is."""
    source = price_source()
    resting = Backoff(redis_client(), source.name).resting()
    if resting is not None:  # asking now would only prolong it
        raise ApiError(503, f"could not check {symbol}: {source.name} is {resting.describe(time.time())}", "symbol")
    listing = _check(source, symbol)
    crypto = crypto_source()
    if crypto is not None and is_crypto(symbol, listing.quote_type):  # CRYPTO_SOURCE must price it too
        _check(crypto, symbol)
    return listing


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
    """Stop watching a symbol (off every list): no more fetches; its history and alerts stay
    (alerts wait, inactive)."""
    removed = watchlist.remove(normalise_symbol(symbol), None)
    _tell()
    return jsonify(symbol=removed)


@bp.delete("/api/watchlists/<int:list_id>/symbols/<symbol>")
@documented(answers(200, S.RemovedSymbol, 404), "watchlist")
def remove_from_list(list_id: int, symbol: str) -> Response:
    """Take a symbol off a list; off its last list it is no longer fetched (history and alerts stay)."""
    symbol = normalise_symbol(symbol)
    removed = watchlist.remove(symbol, list_id)
    _tell()
    return jsonify(symbol=removed, watched=watchlist.is_watched(symbol))


@bp.patch("/api/symbols")
@documented(answers(200, S.SymbolList, 413, 415, 422), "watchlist", json=S.SymbolOrder)
def reorder_symbols() -> Response:
    """Put the first list in a new order: ``order`` names each of its symbols once."""
    body = json_body()
    watchlist.reorder(_order(body.get("order") if isinstance(body, dict) else None), None)
    _tell()
    return symbols()


@bp.get("/api/watchlists")
@documented(answers(200, S.WatchlistList), "watchlist")
def list_watchlists() -> Response:
    """The lists in the tabs' order, each with its symbols in its own order."""
    return jsonify(watchlists=watchlist.lists())


@bp.post("/api/watchlists")
@documented(answers(201, S.OneWatchlist, 409, 413, 415), "watchlist", json=S.NewWatchlist)
def create_watchlist() -> tuple[Response, int]:
    """A new, empty list, last among the tabs; names are unique whatever their case."""
    body = json_body()
    name = parse_name(body.get("name") if isinstance(body, dict) else None, "name", watchlist.MAX_NAME)
    made = watchlist.create_list(name)
    _tell()
    return jsonify(watchlist=made), 201


@bp.patch("/api/watchlists/<int:list_id>")
@documented(answers(200, S.OneWatchlist, 404, 409, 413, 415, 422), "watchlist", json=S.WatchlistChange)
def change_watchlist(list_id: int) -> Response:
    """Rename a list, put it in a new order (``order`` names each of its symbols once), or both
    (neither: the list as it is)."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, 'send {"name": "..."}, {"order": [...]} or both', "name")
    name = None if body.get("name") is None else parse_name(body["name"], "name", watchlist.MAX_NAME)
    order = None if body.get("order") is None else _order(body["order"])
    watchlist.chosen(list_id)  # 404 first
    if name is not None:
        watchlist.rename_list(list_id, name)
    if order is not None:
        watchlist.reorder(order, list_id)
    _tell()
    return jsonify(watchlist=watchlist.list_json(list_id))


@bp.delete("/api/watchlists/<int:list_id>")
@documented(answers(200, S.DeletedWatchlist, 404, 409), "watchlist")
def delete_watchlist(list_id: int) -> Response:
    """Delete a list (not the only one); its symbols on no other list are no longer fetched
    (their history and alerts stay)."""
    deleted = watchlist.delete_list(list_id)
    _tell()
    return jsonify(deleted)


def _order(order: object) -> list[str]:
    if not isinstance(order, list) or not order:
        raise ApiError(400, "order must be a list of the watchlist's symbols", "order")
    return [normalise_symbol(s, "order") for s in order]


def _list_id(value: object) -> int | None:
    if value is None:
        return None
    number = whole_number(value)
    if number is None or not 1 <= number <= MAX_ID:
        raise ApiError(400, "watchlist must be a watchlist's id (a whole number)", "watchlist")
    return number


def _tell() -> None:
    """Every open page (this one's other tabs too) draws the lists afresh."""
    message = {"type": "watchlist", "symbols": watchlist.watchlist(), "watchlists": watchlist.lists()}
    tell_pages(redis_client(), message)
