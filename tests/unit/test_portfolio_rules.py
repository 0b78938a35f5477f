"""The daily summary's timing and text (app/alerting/portfolio_rules.py): no servers."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.alerting.portfolio_rules import last_due, summary_text, total_of

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2026, 12, 6, 17, 0, tzinfo=UTC), datetime(2026, 12, 6, 17, 0, tzinfo=UTC)),  # 18:00 in Paris: now
        (datetime(2026, 12, 6, 16, 59, tzinfo=UTC), datetime(2026, 12, 5, 17, 0, tzinfo=UTC)),  # not yet: yesterday's
        (datetime(2026, 12, 6, 23, 30, tzinfo=UTC), datetime(2026, 12, 6, 17, 0, tzinfo=UTC)),  # 00:30 on the 7th
        # summer time: 18:00 in Paris is 16:00 UTC, on the day the clocks went forward too
        (datetime(2026, 3, 29, 16, 0, tzinfo=UTC), datetime(2026, 3, 29, 16, 0, tzinfo=UTC)),
        (datetime(2026, 3, 29, 15, 0, tzinfo=UTC), datetime(2026, 3, 28, 17, 0, tzinfo=UTC)),
    ],
)
def test_a_summary_is_due_at_its_time_of_day_in_its_own_zone(now, due):
    assert last_due(now, time(18, 0), PARIS) == due


def test_a_time_the_clocks_skip_is_due_once_that_day():
    # 02:30 does not happen in Paris on 2026-03-29: it is read as 03:30 summer time, once
    assert last_due(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), time(2, 30), PARIS) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


VALUED = {
    "base_currency": "USD",
    "positions": [
        {"symbol": "BTC-USD", "quantity": "0.5", "currency": "USD", "value": "50000.00", "day_change_percent": 2.5,
         "unrealised_percent": 25.0},
        {"symbol": "SAP.DE", "quantity": "10", "currency": "EUR", "value": "2000.00", "day_change_percent": -1.25,
         "unrealised_percent": None},
        {"symbol": "ETH-USD", "quantity": "0", "currency": "USD", "value": "0.00", "day_change_percent": None,
         "unrealised_percent": None},
    ],
    "totals": {"value": "52160.00", "day_change": "-1234.5", "total_pnl": "10160.00", "day_change_percent": -2.31},
    "missing_rates": [],
}  # fmt: skip


def test_the_summary_names_the_total_the_day_and_each_open_position():
    when = datetime(2026, 12, 6, 18, 0, tzinfo=PARIS)
    assert summary_text(VALUED, when).splitlines() == [
        "Portfolio on 2026-12-06 18:00 CET: 52,160.00 USD",
        "Day: −1,234.50 USD (−2.31 %); total P&L: +10,160.00 USD",
        "BTC-USD: 0.5 worth 50,000.00 USD, day +2.5 %, P&L +25 %",
        "SAP.DE: 10 worth 2,000.00 EUR, day −1.25 %",
    ]
    empty = VALUED | {"positions": [], "totals": VALUED["totals"] | {"day_change_percent": None}}
    assert summary_text(empty, when).splitlines()[1:] == [
        "Day: −1,234.50 USD; total P&L: +10,160.00 USD",
        "Nothing held.",
    ]


def test_no_total_while_a_position_has_no_price_or_a_currency_no_rate():
    assert total_of(VALUED) == 52160
    assert total_of(VALUED | {"missing_rates": ["JPY"]}) is None
    unpriced = [VALUED["positions"][0] | {"value": None}]
    assert total_of(VALUED | {"positions": unpriced}) is None
    closed = [VALUED["positions"][2] | {"value": None}]  # a closed position's missing price does not matter
    assert total_of(VALUED | {"positions": closed}) == 52160
