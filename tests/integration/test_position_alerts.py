"""Alerts on positions (rules value and pnl) through the alert check on the real PostgreSQL: they
fire once on the position's figure at a tick, wait while nothing is held, and say what happened."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.alerting.alerts import check_ticks
from app.alerting.deliveries import message
from app.extensions import db
from app.models import Alert, AlertEvent
from app.portfolio import transactions
from app.web.validation import parse_trade
from tests.integration.helpers import make_alert, tick


def hold(symbol: str, quantity: str, price: str, fees: str = "0") -> None:
    body = {"symbol": symbol, "side": "buy", "quantity": quantity, "price": price, "fees": fees, "date": "2026-01-05"}
    transactions.add(parse_trade(body))


def fires(alert_id: int) -> list[tuple]:
    db.session.rollback()
    query = select(AlertEvent.price, AlertEvent.reference_price).where(AlertEvent.alert_id == alert_id)
    return [tuple(row) for row in db.session.execute(query.order_by(AlertEvent.id))]


def test_a_value_alert_fires_once_when_the_position_is_worth_its_threshold(ctx):
    hold("BTC-USD", "2", "100")
    alert_id = make_alert("BTC-USD", "value", "250", direction="above")
    check_ticks([tick("BTC-USD", "120", 0)])  # worth 240
    assert fires(alert_id) == []
    check_ticks([tick("BTC-USD", "126", 1), tick("BTC-USD", "130", 2)])  # 252, then 260: the first fires
    check_ticks([tick("BTC-USD", "140", 3)])
    assert [(str(p), str(v)) for p, v in fires(alert_id)] == [("126.0000000000", "252.0000000000")]
    alert = db.session.get(Alert, alert_id)
    assert alert.status == "triggered"
    title, body = message(alert, db.session.scalars(select(AlertEvent)).one(), "http://localhost:8000/")
    assert title == "Stock Ticker: BTC-USD position worth 252.00 (at or above 250.00)"
    assert body.splitlines()[1].startswith("Price: 126.0000 at ")
    assert "Alert #1: BTC-USD position worth at or above 250.00, once" in body


def test_a_pnl_alert_counts_the_fees_and_fires_on_a_loss(ctx):
    hold("ETH-USD", "10", "100", fees="10")  # cost 1,010
    alert_id = make_alert("ETH-USD", "pnl", direction="below", percent="-10")
    check_ticks([tick("ETH-USD", "91", 0)])  # 910: -9.90 %
    assert fires(alert_id) == []
    check_ticks([tick("ETH-USD", "90.8", 1)])  # 908: -10.10 %
    [(price, figure)] = fires(alert_id)
    assert price == Decimal("90.8") and round(figure, 2) == Decimal("-10.10")
    alert = db.session.get(Alert, alert_id)
    title, _ = message(alert, db.session.scalars(select(AlertEvent)).one(), "http://localhost:8000/")
    assert title == "Stock Ticker: ETH-USD position P&L reached −10.10 % (at or below −10 %)"


def test_a_position_alert_waits_while_nothing_is_held(ctx):
    alert_id = make_alert("DOGE-USD", "value", "1", direction="above", frequency="every_time", cooldown="1m")
    check_ticks([tick("DOGE-USD", "5", 0)])
    assert fires(alert_id) == []  # nothing held: no figure, no fire
    hold("DOGE-USD", "1", "0.5")
    check_ticks([tick("DOGE-USD", "5", 1)])
    assert len(fires(alert_id)) == 1


def test_position_alerts_through_the_api(client, ctx):
    made = client.post("/api/alerts", json={"symbol": "BTC-USD", "rule": "value", "direction": "above",
                                            "threshold": "50,000"})  # fmt: skip
    assert made.status_code == 201, made.json
    assert made.json["alert"]["condition"] == "position worth at or above 50,000.00"
    made = client.post("/api/alerts", json={"symbol": "BTC-USD", "rule": "pnl", "direction": "above", "percent": 20})
    assert (made.status_code, made.json["alert"]["condition"]) == (201, "position P&L at or above +20 %")
    for body, status, field, error in (
        ({"rule": "pnl", "percent": 5}, 422, "direction", "direction is required for the pnl rule: above or below"),
        ({"rule": "pnl", "direction": "below", "percent": -100}, 422, "percent",
         "percent must be more than -100 and at most 100000"),
        ({"rule": "value", "direction": "above"}, 422, "threshold", "threshold is required for the value rule"),
        ({"rule": "value", "direction": "above", "threshold": 1, "percent": 2}, 422, "percent",
         "percent does not go with the value rule"),
    ):  # fmt: skip
        answer = client.post("/api/alerts", json={"symbol": "BTC-USD"} | body)
        assert (answer.status_code, answer.json) == (status, {"error": error, "field": field}), body


def test_a_pnl_alert_is_edited_in_place(client, ctx):
    alert_id = make_alert("BTC-USD", "pnl", direction="below", percent="-10", note="cut losses")
    answer = client.patch(f"/api/alerts/{alert_id}", json={"percent": "-15.5"})
    assert answer.status_code == 200, answer.json
    assert (answer.json["alert"]["condition"], answer.json["alert"]["note"]) == (
        "position P&L at or below −15.5 %",
        "cut losses",
    )
    answer = client.patch(f"/api/alerts/{alert_id}", json={"rule": "value", "direction": "above", "threshold": 900})
    assert answer.json["alert"]["condition"] == "position worth at or above 900.00"
