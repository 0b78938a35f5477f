"""Alerts on positions (rules value and pnl) and on the whole portfolio (total, daily) through the
alert check and the sweep's summaries on the real PostgreSQL: they fire once on the figure at a
tick (or once a day), wait while a figure is missing, and say what happened."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from app.alerting.alerts import check_ticks, send_summaries
from app.alerting.deliveries import message
from app.alerting.portfolio_rules import last_due
from app.extensions import db
from app.market.prices import store_ticks
from app.models import Alert, AlertEvent
from app.portfolio import transactions
from app.portfolio.holdings import also_fetched
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


def make_portfolio_alert(client, **body) -> int:
    answer = client.post("/api/alerts", json=body)
    assert answer.status_code == 201, answer.json
    return answer.json["alert"]["id"]


def test_a_total_alert_fires_once_on_the_whole_portfolio_and_waits_for_every_price(client, ctx):
    hold("BTC-USD", "2", "100")
    hold("ETH-USD", "10", "10")
    alert_id = make_portfolio_alert(client, rule="total", direction="above", threshold="400")
    store_ticks([tick("BTC-USD", "150", 0)])
    check_ticks([tick("BTC-USD", "160", 1)])  # ETH-USD has no price yet: a partial total (320) is none
    assert fires(alert_id) == []
    store_ticks([tick("ETH-USD", "7", 2)])
    check_ticks([tick("DOGE-USD", "1", 3)])  # not held: the total did not move
    assert fires(alert_id) == []
    check_ticks([tick("BTC-USD", "164", 4), tick("BTC-USD", "170", 5)])  # 2 x 164 + 70 = 398, then 410
    check_ticks([tick("ETH-USD", "9", 6)])
    assert [(str(p), str(v)) for p, v in fires(alert_id)] == [("410.0000000000", "410.0000000000")]
    alert = db.session.get(Alert, alert_id)
    assert (alert.status, alert.symbol, alert.currency) == ("triggered", None, "USD")
    title, body = message(alert, db.session.scalars(select(AlertEvent)).one(), "http://localhost:8000/")
    assert title == "Stock Ticker: portfolio worth 410.00 USD (at or above 400.00 USD)"
    assert body.splitlines()[2] == f"Alert #{alert_id}: portfolio worth at or above 400.00 USD, once"


def test_a_total_converts_other_currencies_at_their_rate_and_waits_without_one(client, ctx):
    db.session.execute(text("UPDATE symbols SET currency = 'EUR' WHERE symbol = 'ETH-USD'"))  # as if a euro stock
    db.session.commit()
    hold("ETH-USD", "10", "10")
    assert also_fetched("USD") == ["ETH-USD", "EURUSD=X"]  # as the fetch asks: the rate is now known
    alert_id = make_portfolio_alert(client, rule="total", direction="above", threshold="110", frequency="every_time")
    check_ticks([tick("ETH-USD", "10", 0)])  # 100 EUR, no EURUSD=X rate yet: no total
    assert fires(alert_id) == []
    store_ticks([tick("EURUSD=X", "1.05", 1)])
    check_ticks(store_ticks([tick("ETH-USD", "10.4", 2)]))  # 104 EUR x 1.05 = 109.20 USD
    assert fires(alert_id) == []
    check_ticks([tick("EURUSD=X", "1.06", 3)])  # a rate's tick moves the total too: 110.24
    assert [str(v) for _, v in fires(alert_id)] == ["110.2400000000"]


def test_a_daily_summary_goes_out_once_a_day_at_its_time_with_its_text_kept(client, ctx):
    hold("BTC-USD", "0.5", "100")
    store_ticks([tick("BTC-USD", "120", 0)])
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=5)).astimezone(ZoneInfo("Asia/Tokyo"))
    alert_id = make_portfolio_alert(client, rule="daily", at=f"{at:%H:%M}", timezone="Asia/Tokyo")
    assert send_summaries("USD").fired == []  # made after today's time: tomorrow's is the first
    db.session.execute(text("UPDATE alerts SET created_at = now() - interval '1 day' WHERE id = :id"), {"id": alert_id})
    db.session.commit()
    sent = send_summaries("USD")
    assert [a["id"] for a in sent.fired] == [alert_id]
    assert send_summaries("USD").fired == []  # once a day
    db.session.rollback()
    [event] = db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id)).all()
    assert event.observed_at == last_due(now, time(at.hour, at.minute), ZoneInfo("Asia/Tokyo"))
    assert event.detail.splitlines()[0] == f"Portfolio on {at:%Y-%m-%d %H:%M} JST: 60.00 USD"
    assert event.detail.splitlines()[2] == "BTC-USD: 0.5 worth 60.00 USD, day 0 %, P&L +20 %"
    alert = db.session.get(Alert, alert_id)
    assert (alert.status, alert.fire_count) == ("active", 1)
    _, body = message(alert, event, "http://localhost:8000/")
    assert body.startswith(event.detail)
    answer = client.get(f"/api/alerts/{alert_id}/events").json
    assert answer["events"][0]["detail"] == event.detail
    assert answer["alert"]["condition"] == f"portfolio summary every day at {at:%H:%M} (Asia/Tokyo)"


def test_portfolio_alerts_through_the_api(client, ctx):
    made = client.post("/api/alerts", json={"rule": "total", "direction": "below", "threshold": "50,000"})
    assert made.status_code == 201, made.json
    alert = made.json["alert"]
    assert (alert["symbol"], alert["currency"], alert["condition"]) == (
        None,
        "USD",
        "portfolio worth at or below 50,000.00 USD",
    )
    again = client.post("/api/alerts", json={"rule": "total", "direction": "below", "threshold": 50000})
    assert again.status_code == 409
    assert (
        again.json["error"]
        == f"an identical alert is already active: #{alert['id']} portfolio worth at or below 50,000.00 USD, once"
    )
    daily = client.post("/api/alerts", json={"rule": "daily", "at": "18:30"}).json["alert"]
    assert (daily["at"], daily["timezone"], daily["frequency"], daily["cooldown"]) == ("18:30", "UTC", "every_time", 0)
    edited = client.patch(f"/api/alerts/{daily['id']}", json={"at": "07:00", "timezone": "Europe/Paris"})
    assert edited.status_code == 200, edited.json
    assert edited.json["alert"]["condition"] == "portfolio summary every day at 07:00 (Europe/Paris)"
    edits = client.get(f"/api/alerts/{daily['id']}/events").json["edits"]
    assert edits[0]["changes"] == {"at": ["18:30", "07:00"], "timezone": ["UTC", "Europe/Paris"]}
    edited = client.patch(f"/api/alerts/{alert['id']}", json={"threshold": "45000", "note": "rebalance"})
    assert (edited.json["alert"]["condition"], edited.json["alert"]["currency"]) == (
        "portfolio worth at or below 45,000.00 USD",
        "USD",
    )
    for change, field, error in (
        ({"symbol": "BTC-USD"}, "symbol", "symbol cannot change: make a new alert for another symbol"),
        ({"frequency": "once"}, "frequency", "frequency does not go with the daily rule: it goes out every day"),
        ({"at": "25:00"}, "at", "at must be a time of day as HH:MM, like 18:00"),
    ):
        answer = client.patch(f"/api/alerts/{daily['id']}", json=change)
        assert (answer.json, answer.status_code in (400, 422)) == ({"error": error, "field": field}, True), change
