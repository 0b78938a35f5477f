"""Named watchlists through the API, on the real PostgreSQL: lists with their own order, a symbol
watched (fetched) while on any list, the union's order, refusals that change nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.market.prices import active_symbols
from app.market.sources import chosen
from app.models import Alert, Symbol, Watchlist, WatchlistEntry
from tests.integration.helpers import make_alert

CONFIGURED = ["BTC-USD", "ETH-USD", "DOGE-USD"]
BAD_NAME = "name must be 1 to 40 characters on one line, not blank"


@pytest.fixture(autouse=True)
def _simulated_source():
    chosen._source = chosen._crypto = None
    yield
    chosen._source = chosen._crypto = None


def lists(client) -> list[tuple[str, list[str]]]:
    return [(w["name"], w["symbols"]) for w in client.get("/api/watchlists").json["watchlists"]]


def watched(client) -> list[str]:
    return [s["symbol"] for s in client.get("/api/symbols").json["symbols"]]


def stored(app: Flask) -> tuple:
    """Everything the lists and the symbols table hold, to show a refusal changed nothing."""
    with app.app_context():
        return (
            sorted((w.id, w.name, w.position) for w in db.session.scalars(select(Watchlist))),
            sorted((e.watchlist_id, e.symbol, e.position) for e in db.session.scalars(select(WatchlistEntry))),
            sorted((s.symbol, s.active, s.position) for s in db.session.scalars(select(Symbol))),
        )


def new_list(client, name: str) -> int:
    made = client.post("/api/watchlists", json={"name": name})
    assert made.status_code == 201, made.json
    return made.json["watchlist"]["id"]


def test_an_install_starts_with_one_list_of_its_symbols_and_the_answer_of_symbols_carries_it(client):
    assert lists(client) == [("Watchlist", CONFIGURED)]
    assert client.get("/api/symbols").json["watchlists"] == [{"id": 1, "name": "Watchlist", "symbols": CONFIGURED}]


def test_a_list_has_its_own_order_and_a_symbol_on_two_lists_is_watched_once(client, app, ctx):
    crypto = new_list(client, "Crypto")
    for symbol in ("doge-usd", "AAPL", "BTC-USD"):
        added = client.post(f"/api/watchlists/{crypto}/symbols", json={"symbol": symbol})
        assert added.status_code == 201, added.json
    assert added.json["symbol"]["symbol"] == "BTC-USD"
    assert lists(client) == [("Watchlist", CONFIGURED), ("Crypto", ["DOGE-USD", "AAPL", "BTC-USD"])]
    # The union: the first list's order, then what only later lists hold; the fetch reads it.
    assert watched(client) == [*CONFIGURED, "AAPL"]
    assert [w.symbol for w in active_symbols()] == [*CONFIGURED, "AAPL"]
    moved = client.patch(f"/api/watchlists/{crypto}", json={"order": ["AAPL", "BTC-USD", "DOGE-USD"]})
    assert moved.json == {"watchlist": {"id": crypto, "name": "Crypto", "symbols": ["AAPL", "BTC-USD", "DOGE-USD"]}}
    assert lists(client)[0] == ("Watchlist", CONFIGURED)  # the other list's order is its own
    # Off one list, still on the other: still watched. Off the last: no longer fetched.
    off = client.delete(f"/api/watchlists/{crypto}/symbols/btc-usd")
    assert (off.status_code, off.json["symbol"]["symbol"], off.json["watched"]) == (200, "BTC-USD", True)
    off = client.delete(f"/api/watchlists/{crypto}/symbols/AAPL")
    assert (off.json["symbol"]["symbol"], off.json["watched"]) == ("AAPL", False)
    assert watched(client) == CONFIGURED
    assert db.session.get(Symbol, "AAPL").active is False  # kept, with its history, inactive


def test_the_first_list_goes_first_in_the_union_whichever_list_was_made_first(client):
    tech = new_list(client, "Tech")
    client.post(f"/api/watchlists/{tech}/symbols", json={"symbol": "MSFT"})
    client.post(f"/api/watchlists/{tech}/symbols", json={"symbol": "AAPL"})
    first = lists(client)[0]
    assert first == ("Watchlist", CONFIGURED)
    client.patch(f"/api/watchlists/{tech}", json={"order": ["AAPL", "MSFT"]})
    assert watched(client) == [*CONFIGURED, "AAPL", "MSFT"]
    assert [s["position"] for s in client.get("/api/symbols").json["symbols"]] == [0, 1, 2, 3, 4]


def test_renaming_and_deleting_a_list(client, app, ctx):
    crypto = new_list(client, "Crypto")
    client.post(f"/api/watchlists/{crypto}/symbols", json={"symbol": "BTC-USD"})
    client.post(f"/api/watchlists/{crypto}/symbols", json={"symbol": "SOL-USD"})
    alert_id = make_alert("SOL-USD", "above", "300")
    renamed = client.patch(f"/api/watchlists/{crypto}", json={"name": " Coins "})
    assert renamed.json["watchlist"]["name"] == "Coins"
    assert client.patch(f"/api/watchlists/{crypto}", json={"name": "coins"}).status_code == 200  # its own name, recased
    gone = client.delete(f"/api/watchlists/{crypto}")
    assert gone.status_code == 200
    assert gone.json == {
        "watchlist": {"id": crypto, "name": "coins", "symbols": ["BTC-USD", "SOL-USD"]},
        "unwatched": ["SOL-USD"],  # BTC-USD is on Watchlist too
    }
    assert lists(client) == [("Watchlist", CONFIGURED)]
    assert watched(client) == CONFIGURED
    assert db.session.get(Alert, alert_id).status == "active"  # waits, inactive, as for a removed symbol


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message", "field"),
    [
        ("post", "/api/watchlists", {"name": "watchlist"}, 409, "there is a watchlist named watchlist already", "name"),
        ("post", "/api/watchlists", {"name": " \t"}, 400, BAD_NAME, "name"),
        ("post", "/api/watchlists", {"name": "x" * 41}, 400, BAD_NAME, "name"),
        ("post", "/api/watchlists", {}, 400, BAD_NAME, "name"),
        ("patch", "/api/watchlists/1", [], 400, 'send {"name": "..."}, {"order": [...]} or both', "name"),
        ("patch", "/api/watchlists/1", {"order": ["BTC-USD"]}, 422,
         "order must name each symbol of Watchlist once (missing DOGE-USD, ETH-USD)", "order"),
        ("patch", "/api/watchlists/99", {"name": "Other"}, 404, "there is no watchlist 99", "watchlist"),
        ("delete", "/api/watchlists/1", None, 409, "Watchlist is the only list: make another before deleting it",
         "watchlist"),
        ("delete", "/api/watchlists/99", None, 404, "there is no watchlist 99", "watchlist"),
        ("post", "/api/watchlists/1/symbols", {"symbol": "eth-usd"}, 409, "ETH-USD is on Watchlist already", "symbol"),
        ("post", "/api/watchlists/99/symbols", {"symbol": "AAPL"}, 404, "there is no watchlist 99", "watchlist"),
        ("post", "/api/symbols", {"symbol": "AAPL", "watchlist": 99}, 404, "there is no watchlist 99", "watchlist"),
        ("post", "/api/symbols", {"symbol": "AAPL", "watchlist": "1"}, 400,
         "watchlist must be a watchlist's id (a whole number)", "watchlist"),
        ("delete", "/api/watchlists/1/symbols/AAPL", None, 404, "AAPL is not on Watchlist", "symbol"),
    ],
)  # fmt: skip
def test_refusals_name_the_field_and_change_nothing(client, app, method, path, body, status, message, field):
    before = stored(app)
    answer = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
    assert (answer.status_code, answer.json) == (status, {"error": message, "field": field})
    assert stored(app) == before


def test_the_number_of_lists_is_bounded(client, app):
    from app.market.watchlist import MAX_LISTS

    for n in range(MAX_LISTS - 1):
        new_list(client, f"List {n}")
    before = stored(app)
    refused = client.post("/api/watchlists", json={"name": "One more"})
    assert (refused.status_code, refused.json["error"]) == (409, f"at most {MAX_LISTS} watchlists: delete one first")
    assert stored(app) == before


def test_the_legacy_routes_act_on_the_first_list_and_delete_stops_watching_everywhere(client):
    crypto = new_list(client, "Crypto")
    client.post(f"/api/watchlists/{crypto}/symbols", json={"symbol": "ETH-USD"})
    added = client.post("/api/symbols", json={"symbol": "AAPL"})
    assert added.status_code == 201
    assert lists(client) == [("Watchlist", [*CONFIGURED, "AAPL"]), ("Crypto", ["ETH-USD"])]
    onto = client.post("/api/symbols", json={"symbol": "MSFT", "watchlist": crypto})
    assert onto.status_code == 201
    assert lists(client)[1] == ("Crypto", ["ETH-USD", "MSFT"])
    reordered = client.patch("/api/symbols", json={"order": ["AAPL", "DOGE-USD", "ETH-USD", "BTC-USD"]})
    assert reordered.status_code == 200
    assert reordered.json["watchlists"][0]["symbols"] == ["AAPL", "DOGE-USD", "ETH-USD", "BTC-USD"]
    assert client.delete("/api/symbols/ETH-USD").status_code == 200  # off every list: no longer watched
    assert lists(client) == [("Watchlist", ["AAPL", "DOGE-USD", "BTC-USD"]), ("Crypto", ["MSFT"])]
    assert "ETH-USD" not in watched(client)
