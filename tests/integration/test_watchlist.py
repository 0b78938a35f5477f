"""The watchlist through the API, on the real PostgreSQL: add (checked against the source),
remove (history and alerts stay), reorder, limits, two adds at once, SYMBOLS seeding once."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from app.extensions import db
from app.market import watchlist
from app.market.prices import store_ticks
from app.market.sources import chosen
from app.market.sources.exchange import ExchangeSource
from app.market.sources.yahoo import YahooSource
from app.models import Alert, Symbol
from tests.integration.helpers import make_alert, tick
from tests.replay import KrakenReplay, kraken_session
from tests.unit.test_yahoo import Replay, session

CONFIGURED = ["BTC-USD", "ETH-USD", "DOGE-USD"]


@pytest.fixture(autouse=True)
def _simulated_source():
    """The web's source as the stack runs it in the tests (PRICE_SOURCE=simulated), made afresh."""
    chosen._source = chosen._crypto = None
    yield
    chosen._source = chosen._crypto = None


def kraken_source() -> ExchangeSource:
    return ExchangeSource("kraken", timeout_seconds=5, session=kraken_session(KrakenReplay()))


def watched(client) -> list[str]:
    return [s["symbol"] for s in client.get("/api/symbols").json["symbols"]]


def rows(app: Flask) -> dict[str, tuple]:
    with app.app_context():
        return {r.symbol: (r.active, r.position, r.name) for r in db.session.scalars(select(Symbol))}


def test_an_added_symbol_is_checked_described_and_watched_last(client, app):
    answer = client.post("/api/symbols", json={"symbol": " aapl "})
    assert answer.status_code == 201, answer.json
    assert answer.json == {
        "symbol": {
            "symbol": "AAPL",
            "name": "Apple Inc.",
            "currency": "USD",
            "exchange": "simulated",
            "quote_type": "EQUITY",
            "calendar": "XNYS",  # a simulated stock keeps New York's hours
            "price_hint": 2,  # and is quoted in cents
            "position": 3,
            "history": None,  # its past is planned by the backfill's next step (every 5 s)
        }
    }
    assert watched(client) == [*CONFIGURED, "AAPL"]
    sol = client.post("/api/symbols", json={"symbol": "SOL-USD"}).json["symbol"]
    assert (sol["name"], sol["currency"], sol["quote_type"], sol["calendar"]) == (
        "Solana USD", "USD", "CRYPTOCURRENCY", "24/7",
    )  # fmt: skip


def test_an_unknown_symbol_is_refused_with_the_sources_reason_and_nothing_is_written(client, app, tmp_path):
    import yfinance as yf

    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))
    chosen._source = YahooSource(timeout_seconds=10, session=session(Replay()))
    before = rows(app)
    answer = client.post("/api/symbols", json={"symbol": "NOPE"})
    assert answer.status_code == 422
    assert answer.json == {
        "error": "NOPE is not known: Yahoo Finance: No data found, symbol may be delisted",
        "field": "symbol",
    }
    assert rows(app) == before
    known = client.post("/api/symbols", json={"symbol": "BTC-USD"})  # on the list already: not even asked
    assert known.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"symbol": "BTC-USD"}, 409, "BTC-USD is on Watchlist already"),
        ({"symbol": ""}, 400, "symbol must be a non-empty string"),
        ({"symbol": "BTC USD; DROP"}, 400, "symbol 'BTC USD; DROP' is not a valid symbol"),
        ({"name": "AAPL"}, 400, "symbol must be a non-empty string"),
        (["AAPL"], 400, 'send a JSON object: {"symbol": "AAPL"}'),
    ],
)
def test_bad_adds_are_refused_and_change_nothing(client, app, body, status, message):
    before = rows(app)
    answer = client.post("/api/symbols", json=body)
    assert (answer.status_code, answer.json["error"]) == (status, message)
    assert rows(app) == before


def test_a_removed_symbol_stops_being_watched_and_keeps_its_history_and_alerts(client, app, ctx):
    store_ticks([tick("ETH-USD", "3500", 0)])
    alert_id = make_alert("ETH-USD", "above", "4000")
    removed = client.delete("/api/symbols/eth-usd")
    assert removed.status_code == 200 and removed.json["symbol"]["symbol"] == "ETH-USD"
    assert watched(client) == ["BTC-USD", "DOGE-USD"]
    assert len(client.get("/history/ETH-USD").json["points"]) == 1
    assert db.session.get(Alert, alert_id).status == "active"  # waits, inactive, until ETH-USD is back
    again = client.delete("/api/symbols/ETH-USD")
    assert (again.status_code, again.json["error"]) == (404, "ETH-USD is not on the watchlist")
    back = client.post("/api/symbols", json={"symbol": "ETH-USD"})
    assert back.status_code == 201
    assert watched(client) == ["BTC-USD", "DOGE-USD", "ETH-USD"]  # back last, with its history
    assert len(client.get("/history/ETH-USD").json["points"]) == 1


def test_the_watchlist_is_reordered_only_by_a_complete_order(client, app):
    answer = client.patch("/api/symbols", json={"order": ["doge-usd", "BTC-USD", "ETH-USD"]})
    assert answer.status_code == 200
    assert [s["symbol"] for s in answer.json["symbols"]] == ["DOGE-USD", "BTC-USD", "ETH-USD"]
    assert watched(client) == ["DOGE-USD", "BTC-USD", "ETH-USD"]
    before = rows(app)
    for order, detail in [
        (["BTC-USD", "ETH-USD"], "missing DOGE-USD"),
        (["BTC-USD", "ETH-USD", "DOGE-USD", "AAPL"], "not on Watchlist: AAPL"),
        (["BTC-USD", "ETH-USD", "DOGE-USD", "BTC-USD"], "a symbol is named twice"),
    ]:
        refused = client.patch("/api/symbols", json={"order": order})
        assert refused.status_code == 422
        assert refused.json == {
            "error": f"order must name each symbol of Watchlist once ({detail})",
            "field": "order",
        }
    assert client.patch("/api/symbols", json={"order": []}).status_code == 400
    assert rows(app) == before


def test_beyond_max_symbols_an_add_is_refused(client, app):
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], max_symbols=4)
    try:
        assert client.post("/api/symbols", json={"symbol": "AAPL"}).status_code == 201
        refused = client.post("/api/symbols", json={"symbol": "MSFT"})
    finally:
        app.config["SETTINGS"] = replace(app.config["SETTINGS"], max_symbols=500)
    assert refused.status_code == 409
    assert refused.json == {"error": "at most 4 symbols (MAX_SYMBOLS): remove one first", "field": "symbol"}
    assert "MSFT" not in rows(app)


def test_two_adds_of_one_symbol_at_once_make_one_row(app):
    start = threading.Barrier(8)
    answers: list[int] = []

    def add() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.post("/api/symbols", json={"symbol": "NVDA"}).status_code)

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [201] + [409] * 7
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Symbol.symbol == "NVDA")) == 1


def test_symbols_seeds_an_empty_table_only(app, ctx):
    assert watchlist.seed(["AAPL"]) is False  # the table has rows: nothing changes
    assert [s["symbol"] for s in watchlist.watchlist()] == CONFIGURED
    db.session.execute(text("DELETE FROM watchlist_entries; DELETE FROM symbols"))
    db.session.commit()
    assert watchlist.seed(["AAPL", "BTC-USD"]) is True
    assert [(s["symbol"], s["position"]) for s in watchlist.watchlist()] == [("AAPL", 0), ("BTC-USD", 1)]
    assert [(w["name"], w["symbols"]) for w in watchlist.lists()] == [("Watchlist", ["AAPL", "BTC-USD"])]


def test_with_crypto_from_an_exchange_a_pair_it_does_not_list_is_refused_and_nothing_is_written(client, app, tmp_path):
    import yfinance as yf

    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))
    assert client.delete("/api/symbols/DOGE-USD").status_code == 200
    kraken = ExchangeSource(
        "kraken", timeout_seconds=5, session=kraken_session(KrakenReplay(unlisted=frozenset({"XDGUSD"})))
    )
    chosen._source = YahooSource(timeout_seconds=10, session=session(Replay()))
    chosen._crypto = {"source": kraken, "fallback": None}  # CRYPTO_SOURCE=ccxt:kraken
    before = rows(app)
    answer = client.post("/api/symbols", json={"symbol": "DOGE-USD"})  # Yahoo knows it; this Kraken does not
    assert (answer.status_code, answer.json) == (422, {
        "error": "DOGE-USD is not known: Kraken has no DOGE/USD or DOGE/USDT or DOGE/USDC market", "field": "symbol",
    })  # fmt: skip
    assert rows(app) == before


def test_setup_leaves_an_edited_watchlist_alone_and_describes_what_has_no_name(client, app):
    assert client.post("/api/symbols", json={"symbol": "AAPL"}).status_code == 201
    assert client.delete("/api/symbols/ETH-USD").status_code == 200
    with app.app_context():
        db.session.execute(text("UPDATE symbols SET name = NULL, currency = NULL, calendar = NULL"))
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    listed = client.get("/api/symbols").json["symbols"]
    assert [(s["symbol"], s["name"], s["currency"], s["calendar"]) for s in listed] == [
        ("BTC-USD", "Bitcoin USD", "USD", "24/7"),
        ("DOGE-USD", "Dogecoin USD", "USD", "24/7"),
        ("AAPL", "Apple Inc.", "USD", "XNYS"),  # an install from before market hours gets them at setup
    ]


def test_a_search_by_name_offers_symbols_best_first_and_says_which_are_watched(client, redis_client):
    apple = client.get("/api/symbols/search?q=apple")
    assert apple.status_code == 200
    assert apple.json == {
        "query": "apple",
        "source": "simulated",
        "results": [
            {"symbol": "AAPL", "name": "Apple Inc.", "exchange": "simulated", "quote_type": "EQUITY", "watched": False}
        ],
    }
    bitcoin = client.get("/api/symbols/search?q=Bitcoin&limit=2").json["results"]
    assert [(m["symbol"], m["watched"]) for m in bitcoin] == [("BTC-USD", True)]
    assert redis_client.ttl("search:simulated:2:bitcoin") > 0  # kept: a page asks as the user types
    assert client.get("/api/symbols/search?q=nothing+like+it").json["results"] == []


def test_a_search_with_yahoo_and_an_exchange_for_crypto_merges_both(client, tmp_path):
    import yfinance as yf

    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))
    chosen._source = YahooSource(timeout_seconds=10, session=session(Replay()))
    chosen._crypto = {"source": kraken_source(), "fallback": None}  # CRYPTO_SOURCE=ccxt:kraken
    found = client.get("/api/symbols/search?q=apple&limit=3").json
    assert found["source"] == "yfinance"
    assert [m["symbol"] for m in found["results"]] == ["AAPL", "APLE", "AAPL.NE"]  # Yahoo's order
    coins = client.get("/api/symbols/search?q=bitcoin&limit=3").json["results"]
    assert ("BTC-USD", "Kraken") in [(m["symbol"], m["exchange"]) for m in coins]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "q is required: a name or the beginning of a symbol (apple, AAP)"),
        ("?q=%20%20", "q must be 1 to 64 characters on one line, not blank"),
        ("?q=" + "a" * 65, "q must be 1 to 64 characters on one line, not blank"),
        ("?q=apple&limit=0", "limit must be a whole number from 1 to 20"),
        ("?q=apple&limit=21", "limit must be a whole number from 1 to 20"),
    ],
)
def test_bad_searches_are_refused_naming_the_parameter(client, query, message):
    answer = client.get(f"/api/symbols/search{query}")
    assert answer.status_code == 400
    assert answer.json["error"] == message and answer.json["field"] in {"q", "limit"}
