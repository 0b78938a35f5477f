"""The alert rules on constructed tick sequences: no servers."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from app.alerting.deliveries import message
from app.alerting.rules import (
    AlertState,
    Observation,
    Outcome,
    describe_alert,
    describe_fire,
    describe_indicator_fire,
    describe_rule,
    evaluate,
    format_price,
)
from app.models import Alert, AlertEvent

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ABOVE = AlertState(
    id=1, version=0, rule="above", direction="above", threshold=Decimal(100), change_percent=None,
    window_seconds=None, frequency="once", cooldown_seconds=0, armed=True, created_at=T0 - timedelta(hours=1),
    triggered_at=None,
)  # fmt: skip
EVERY = replace(ABOVE, frequency="every_time", cooldown_seconds=60)
CHANGE = replace(ABOVE, rule="change", direction="up", threshold=None, change_percent=Decimal(5), window_seconds=3600)


def obs(price: str, second: int, reference: str | None = None) -> Observation:
    at = T0 + timedelta(seconds=second)
    return Observation(Decimal(price), at, at, None if reference is None else Decimal(reference))


def prices(*values: str, start: int = 0, step: int = 2) -> list[Observation]:
    return [obs(v, start + i * step) for i, v in enumerate(values)]


def test_once_fires_on_the_first_tick_that_holds_and_never_again():
    outcome = evaluate(ABOVE, prices("99", "100", "120"))
    assert outcome == Outcome(fire=obs("100", 2), armed=False)
    assert evaluate(ABOVE, prices("99", "99.99")) is None  # nothing changes


def test_below_holds_at_or_under():
    below = replace(ABOVE, rule="below", direction="below")
    assert evaluate(below, prices("101", "100")).fire == obs("100", 2)


def test_ticks_received_before_the_alert_was_made_are_ignored():
    late = replace(ABOVE, created_at=T0 + timedelta(seconds=3))
    assert evaluate(late, prices("150", "150")) is None  # both received before
    assert evaluate(late, prices("150", "150", "150")).fire == obs("150", 4)


def test_ticks_are_taken_in_observed_order_whatever_the_batch_order():
    assert evaluate(ABOVE, [obs("120", 4), obs("101", 2), obs("90", 0)]).fire == obs("101", 2)


def test_every_time_fires_disarms_and_rearms_only_when_the_condition_stops_holding():
    first = evaluate(EVERY, prices("101", "105", "110"))
    assert first == Outcome(fire=obs("101", 0), armed=False)  # still above: stays disarmed
    fired = replace(EVERY, armed=False, triggered_at=T0)
    assert evaluate(fired, prices("120", "130", start=100)) is None  # holding all along: no new fire
    assert evaluate(fired, prices("120", "95", start=100)) == Outcome(fire=None, armed=True)  # left: re-armed
    again = evaluate(fired, prices("95", "101", start=100))  # left and came back after the cooldown
    assert again == Outcome(fire=obs("101", 102), armed=False)


def test_every_time_waits_for_the_cooldown_and_then_fires_while_it_still_holds():
    fired = replace(EVERY, armed=True, triggered_at=T0, cooldown_seconds=600)
    assert evaluate(fired, prices("101", start=60)) is None  # armed, holds, but within 10 min of the last fire
    assert evaluate(fired, prices("101", "102", start=598)).fire == obs("102", 600)  # the first tick past it


def test_every_time_fires_at_most_once_per_batch_and_ends_armed_if_it_left_again():
    outcome = evaluate(EVERY, prices("101", "90", "101", "90"))
    assert outcome == Outcome(fire=obs("101", 0), armed=True)


@pytest.mark.parametrize(
    ("direction", "price", "fires"),
    [
        ("up", "105", True), ("up", "104.99", False), ("up", "90", False),
        ("down", "95", True), ("down", "95.01", False), ("down", "110", False),
        ("either", "105", True), ("either", "95", True), ("either", "101", False),
    ],
)  # fmt: skip
def test_change_compares_with_the_reference_price(direction, price, fires):
    alert = replace(CHANGE, direction=direction)
    outcome = evaluate(alert, [obs(price, 0, reference="100")])
    assert (outcome is not None and outcome.fire is not None) == fires


def test_change_without_history_never_holds():
    assert evaluate(CHANGE, [obs("500", 0, reference=None)]) is None


def test_change_every_time_rearms_when_the_move_falls_back_under_the_percentage():
    alert = replace(CHANGE, frequency="every_time", cooldown_seconds=60, armed=False, triggered_at=T0)
    ticks = [obs("106", 100, "100"), obs("103", 102, "100"), obs("107", 104, "100")]
    assert evaluate(alert, ticks) == Outcome(fire=obs("107", 104, "100"), armed=False)


def test_rules_and_fires_in_words():
    assert describe_rule("above", "above", Decimal("100000"), None, None) == "at or above 100,000.00"
    assert describe_rule("below", "below", Decimal("0.15"), None, None) == "at or below 0.150000"
    assert describe_rule("change", "up", None, Decimal("5.0000"), 3600) == "moves up 5 % within 1 h"
    assert describe_rule("change", "either", None, Decimal("2.5"), 900) == "moves 2.5 % either way within 15 min"
    assert describe_fire("above", Decimal("100000"), None, Decimal("100012.5"), None) == "rose above 100,000.00"
    assert describe_fire("below", Decimal("3000"), None, Decimal("2999"), None) == "fell below 3,000.00"
    fell = describe_fire("change", None, 86400, Decimal("0.152"), Decimal("0.160"))
    assert fell == "fell 5.00 % in 24 h (from 0.160000)"
    assert format_price(Decimal("3500.5")) == "3,500.50" and format_price(Decimal("12.3")) == "12.3000"


def test_prices_in_words_take_the_symbols_decimals_when_its_source_gave_them():
    """A stock's threshold read "500.0000" (issue 20): a stock is quoted in cents, EUR/USD in 4."""
    assert format_price(Decimal("500"), 2) == "500.00"
    assert format_price(Decimal("1.0825"), 4) == "1.0825"
    assert format_price(Decimal("500")) == "500.0000"  # crypto, or not known: by magnitude
    assert describe_rule("above", "above", Decimal("500"), None, None, 2) == "at or above 500.00"
    assert describe_fire("below", Decimal("279.9"), None, Decimal("279"), None, 2) == "fell below 279.90"


CROSS = replace(ABOVE, rule="cross", threshold=None, armed=False)  # a new cross starts disarmed
RSI = replace(ABOVE, rule="rsi", threshold=None, level=Decimal(70))


def ma(price: str, second: int, average: str | None) -> Observation:
    return obs(price, second, average)


def test_a_cross_fires_at_a_crossing_not_because_the_price_is_already_over():
    assert evaluate(CROSS, [ma("101", 0, "100"), ma("102", 2, "100.5")]) is None  # over since it was made
    # under the average (armed), then over it: the crossing fires, once
    outcome = evaluate(CROSS, [ma("99", 0, "100"), ma("100.2", 2, "100.1"), ma("99", 4, "100")])
    assert outcome == Outcome(ma("100.2", 2, "100.1"), False)
    below = replace(CROSS, direction="below")
    assert evaluate(below, [ma("101", 0, "100"), ma("99.9", 2, "100")]) == Outcome(ma("99.9", 2, "100"), False)
    # too few candles for a value: no side of it, so nothing changes (a change rule would re-arm)
    assert evaluate(CROSS, [ma("99", 0, None)]) is None


def test_an_every_time_cross_fires_once_per_crossing():
    every = replace(CROSS, frequency="every_time", cooldown_seconds=60)
    first = evaluate(every, [ma("99", 0, "100"), ma("101", 2, "100")])
    assert first is not None and first.fire is not None and first.armed is False
    fired = replace(every, triggered_at=T0, armed=False)
    assert evaluate(fired, [ma("102", 70, "100"), ma("103", 72, "100")]) is None  # still over: no second fire
    assert evaluate(fired, [ma("99", 74, "100")]) == Outcome(None, True)  # back under: armed again
    again = evaluate(replace(fired, armed=True), [ma("101", 76, "100")])
    assert again is not None and again.fire == ma("101", 76, "100")


def test_rsi_levels():
    assert evaluate(RSI, [ma("1", 0, "69.9")]) is None
    assert evaluate(RSI, [ma("1", 0, "69.9"), ma("1", 2, "70")]) == Outcome(ma("1", 2, "70"), False)
    low = replace(RSI, direction="below", level=Decimal(30))
    assert evaluate(low, [ma("1", 0, "30.5"), ma("1", 2, "29.2")]) == Outcome(ma("1", 2, "29.2"), False)


def test_indicator_rules_in_words():
    class Row:
        rule, direction, indicator, period, timeframe, level = "cross", "above", "sma", 20, "1h", None

    assert describe_alert(Row) == "crosses above SMA(20) of hourly candles"
    assert describe_indicator_fire(Row, Decimal("94321.5")) == "crossed above SMA(20) of hourly candles (94,321.50)"
    Row.rule, Row.direction, Row.indicator, Row.period, Row.timeframe, Row.level = (
        "rsi", "below", "rsi", 14, "1d", Decimal("30.0000"),
    )  # fmt: skip
    assert describe_alert(Row) == "RSI(14) of daily candles at or below 30"
    assert describe_indicator_fire(Row, Decimal("28.04")) == "RSI(14) of daily candles reached 28.0 (at or below 30)"


def test_the_message_of_an_indicator_fire_and_of_an_expiry():
    alert = Alert(
        id=7, symbol="BTC-USD", rule="cross", direction="above", indicator="ema", period=50, timeframe="1d",
        frequency="once", cooldown_seconds=0, note="", fire_count=1,
    )  # fmt: skip
    event = AlertEvent(kind="fired", price=Decimal("95000"), reference_price=Decimal("94321.5"), observed_at=T0)
    title, body = message(alert, event, "https://ticker.example.org/", UTC)
    assert title == "Stock Ticker: BTC-USD crossed above EMA(50) of daily candles (94,321.50)"
    assert body.splitlines()[1:3] == [
        "Price: 95,000.00 at 2026-11-25 12:00:00 UTC",
        "Alert #7: BTC-USD crosses above EMA(50) of daily candles, once",
    ]
    expiry = AlertEvent(kind="expired", price=None, observed_at=T0)
    title, body = message(alert, expiry, "https://ticker.example.org/", UTC)
    assert title == "Stock Ticker: alert on BTC-USD expired (crosses above EMA(50) of daily candles)"
    assert body.startswith("Alert #7 on BTC-USD expired at 2026-11-25 12:00:00 UTC: it fired once.")


def test_a_total_alert_judges_the_portfolio_figure_not_the_price():
    total = replace(ABOVE, rule="total", direction="below", threshold=Decimal(50_000))
    # the figure is the observation's reference (and its price: the same total)
    assert evaluate(total, [obs("60000", 0, "60000"), obs("49999.99", 2, "49999.99")]).fire == obs(
        "49999.99", 2, "49999.99"
    )
    assert evaluate(total, [obs("50000.01", 0, "50000.01")]) is None
    assert evaluate(total, [Observation(Decimal(1), T0, T0, None)]) is None  # no figure: it waits


def test_the_messages_of_a_portfolio_total_and_of_a_daily_summary():
    total = Alert(
        id=8, symbol=None, rule="total", direction="above", threshold=Decimal(100_000), currency="EUR",
        frequency="once", cooldown_seconds=0, note="", fire_count=1,
    )  # fmt: skip
    fired = AlertEvent(kind="fired", price=Decimal("100250.5"), reference_price=Decimal("100250.5"), observed_at=T0)
    title, body = message(total, fired, "https://ticker.example.org/", UTC)
    assert title == "Stock Ticker: portfolio worth 100,250.50 EUR (at or above 100,000.00 EUR)"
    assert body.splitlines()[:3] == [
        "The portfolio worth 100,250.50 EUR (at or above 100,000.00 EUR)",
        "At 2026-11-25 12:00:00 UTC",
        "Alert #8: portfolio worth at or above 100,000.00 EUR, once",
    ]
    expiry = AlertEvent(kind="expired", price=None, observed_at=T0)
    title, body = message(total, expiry, "https://t.example/", UTC)
    assert title == "Stock Ticker: alert on the portfolio expired (portfolio worth at or above 100,000.00 EUR)"
    assert body.splitlines()[1] == "Alert #8: portfolio worth at or above 100,000.00 EUR, once"
    daily = Alert(
        id=9, symbol=None, rule="daily", direction="daily", daily_at=time(18, 0), timezone="Asia/Tokyo",
        frequency="every_time", cooldown_seconds=0, note="evening", fire_count=3,
    )  # fmt: skip
    summary = AlertEvent(kind="fired", price=Decimal(5), observed_at=T0, detail="Portfolio on ...\nBTC-USD: 1")
    title, body = message(daily, summary, "https://t.example/", UTC)
    assert title == "Stock Ticker: portfolio summary, 2026-11-25"  # 21:00 in Tokyo: its own date
    assert body.splitlines() == [
        "Portfolio on ...",
        "BTC-USD: 1",
        "Alert #9: portfolio summary every day at 18:00 (Asia/Tokyo)",
        "Note: evening",
        "Dashboard: https://t.example/",
    ]
