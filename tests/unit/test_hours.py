"""Trading hours from the exchanges' calendars (holidays and early closes included), and which
symbols the fetch asks for while their market is shut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.market.hours import as_of_close, calendar_for, session_at, sessions, to_ask
from app.market.sources.routes import Watched


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("exchange", "quote_type", "calendar"),
    [
        ("NMS", "EQUITY", "XNAS"),
        ("NYQ", "EQUITY", "XNYS"),
        ("LSE", "EQUITY", "XLON"),
        ("JPX", "EQUITY", "XTKS"),
        ("PCX", "ETF", "ARCX"),
        ("CCC", "CRYPTOCURRENCY", "24/7"),
        ("CCY", "CURRENCY", "24/5"),
        ("XYZ", "EQUITY", None),  # an exchange we have no calendar for: hours unknown, always asked
        (None, None, None),
    ],
)
def test_the_calendar_comes_from_yahoos_exchange_code(exchange, quote_type, calendar):
    assert calendar_for(exchange, quote_type) == calendar


def test_new_york_on_a_trading_day_a_holiday_an_early_close_and_a_weekend():
    monday = session_at("XNYS", utc(2026, 11, 30, 15, 0, 31))
    assert (monday.open, monday.next_close, monday.next_open) == (True, utc(2026, 11, 30, 21, 0), None)
    thanksgiving = session_at("XNYS", utc(2026, 11, 26, 15, 0))
    assert (thanksgiving.open, thanksgiving.next_open) == (False, utc(2026, 11, 27, 14, 30))
    assert thanksgiving.last_close == utc(2026, 11, 25, 21, 0)
    saturday = session_at("XNYS", utc(2026, 11, 28, 15, 0))
    assert (saturday.open, saturday.last_close, saturday.next_open) == (
        False, utc(2026, 11, 27, 18, 0), utc(2026, 11, 30, 14, 30),  # Friday closed early, at 13:00 New York
    )  # fmt: skip
    assert saturday.as_json() == {
        "calendar": "XNYS", "state": "closed", "last_close": "2026-11-27T18:00:00+00:00",
        "next_open": "2026-11-30T14:30:00+00:00", "next_close": None,
    }  # fmt: skip


def test_crypto_never_closes():
    assert session_at("24/7", utc(2026, 11, 28, 3, 0)).as_json() == {
        "calendar": "24/7", "state": "open", "last_close": None, "next_open": None, "next_close": None,
    }  # fmt: skip


WATCHED = [
    Watched("BTC-USD", "CRYPTOCURRENCY", "24/7"),
    Watched("AAPL", "EQUITY", "XNAS"),
    Watched("MSFT", "EQUITY", "XNAS"),
    Watched("ODD", "EQUITY", None),
]


def asked(now: datetime, settle: timedelta, priced: set[str]) -> tuple[list[str], set[str]]:
    markets = sessions(WATCHED, now)
    stored = lambda symbols: {s: Decimal(1) for s in symbols if s in priced}  # noqa: E731
    symbols, first = to_ask(WATCHED, markets, now, settle, stored)
    return [w.symbol for w in symbols], first


def test_a_closed_market_is_not_asked_once_its_close_has_settled_unless_it_has_no_price_yet():
    everything = (["BTC-USD", "AAPL", "MSFT", "ODD"], set())
    assert asked(utc(2026, 11, 30, 15, 0), timedelta(minutes=15), {"AAPL", "MSFT"}) == everything  # open
    assert asked(utc(2026, 11, 30, 21, 10), timedelta(minutes=15), {"AAPL", "MSFT"}) == everything  # settling
    night = utc(2026, 11, 30, 23, 0)
    assert asked(night, timedelta(minutes=15), {"AAPL", "MSFT"}) == (["BTC-USD", "ODD"], set())
    assert asked(night, timedelta(minutes=15), {"AAPL"}) == (["BTC-USD", "MSFT", "ODD"], {"MSFT"})  # once
    assert asked(utc(2026, 11, 30, 21, 1), timedelta(0), {"AAPL", "MSFT"}) == (["BTC-USD", "ODD"], set())


def test_a_closed_markets_quote_counts_as_of_its_close_and_post_market_trades_are_left_out():
    night = session_at("XNAS", utc(2026, 11, 30, 23, 0))
    close, post_market = utc(2026, 11, 30, 21, 0), utc(2026, 11, 30, 21, 6)
    assert as_of_close(close, night, first=False) == close  # the 15:59 bar, ending at the close
    assert as_of_close(post_market, night, first=False) is None
    assert as_of_close(post_market, night, first=True) == close  # a symbol's very first price
    day = session_at("XNAS", utc(2026, 11, 30, 15, 0))
    assert as_of_close(utc(2026, 11, 30, 15, 0), day, first=False) == utc(2026, 11, 30, 15, 0)
    assert as_of_close(post_market, None, first=False) == post_market  # hours unknown: as the source says
