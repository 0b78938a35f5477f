from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from app.web.errors import ApiError
from app.web.validation import AlertSpec, normalise_symbol, parse_alert, parse_duration, parse_points, parse_whole

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GOOD = {"symbol": "btc-usd", "direction": "above", "threshold": 100000}
CHANGE = {"symbol": "DOGE-USD", "rule": "change", "percent": 5, "window": "1h"}
CROSS = {
    "symbol": "BTC-USD",
    "rule": "cross",
    "direction": "above",
    "indicator": "ema",
    "period": 50,
    "timeframe": "1d",
}
RSI = {"symbol": "BTC-USD", "rule": "rsi", "direction": "above", "level": 70}


DIRECTIONS = "direction must be one of above, below, up, down, either"


def parse(body: object) -> AlertSpec:
    return parse_alert(body, NOW)


def test_the_first_api_form_is_still_read_as_a_threshold_rule():
    assert parse(GOOD) == AlertSpec("BTC-USD", "above", "above", threshold=Decimal(100000))
    assert parse(GOOD | {"threshold": "0.15", "direction": "below"}).threshold == Decimal("0.15")
    assert parse(GOOD | {"threshold": "12,345.6"}).threshold == Decimal("12345.6")  # as the page shows prices
    assert parse(CHANGE | {"window": 3600.0, "channels": [2.0]}).window_seconds == 3600  # JSON Schema integers


def test_a_full_alert_is_normalised():
    spec = parse(
        CHANGE
        | {
            "direction": "down",
            "frequency": "every_time",
            "cooldown": "10m",
            "expires_at": "2027-01-31T18:00:00+01:00",
            "note": "  buy the dip  ",
            "channels": [3, 1, 3],
        }
    )
    assert spec == AlertSpec(
        symbol="DOGE-USD",
        rule="change",
        direction="down",
        change_percent=Decimal(5),
        window_seconds=3600,
        frequency="every_time",
        cooldown_seconds=600,
        expires_at=datetime(2027, 1, 31, 17, 0, tzinfo=UTC),
        note="buy the dip",
        channels=(3, 1),
    )


def test_defaults_every_time_cooldown_five_minutes_change_either_way():
    spec = parse(CHANGE | {"frequency": "every_time"})
    assert (spec.direction, spec.cooldown_seconds, spec.frequency) == ("either", 300, "every_time")
    assert parse(GOOD).cooldown_seconds == 0


@pytest.mark.parametrize(
    ("value", "seconds"), [(300, 300), ("300", 300), ("5m", 300), ("5min", 300), ("2h", 7200), (" 7d ", 604800)]
)
def test_durations(value, seconds):
    assert parse_duration(value, "window", 300, 604800) == seconds


def test_indicator_rules_are_read_with_their_defaults():
    cross = parse_alert(CROSS)
    assert (cross.rule, cross.direction, cross.indicator, cross.period, cross.timeframe, cross.level) == (
        "cross", "above", "ema", 50, "1d", None,
    )  # fmt: skip
    rsi = parse_alert({"symbol": "eth-usd", "rule": "rsi", "direction": "below", "level": "30"})
    assert (rsi.indicator, rsi.period, rsi.timeframe, rsi.level, rsi.threshold) == ("rsi", 14, "1h", Decimal(30), None)


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ([], 400, None, "request body must be a JSON object"),
        (None, 400, None, "request body must be a JSON object"),
        ({"direction": "above", "threshold": 1}, 422, "symbol", "symbol is required for the above rule"),
        (GOOD | {"direction": None}, 422, "rule", "rule is required"),
        ({"symbol": "BTC-USD", "direction": "above"}, 422, "threshold", "threshold is required"),
        (GOOD | {"symbol": 5}, 400, "symbol", "symbol must be a non-empty string"),
        (GOOD | {"symbol": "<img src=x>"}, 400, "symbol", "is not a valid symbol"),
        (GOOD | {"direction": "sideways"}, 400, "direction", DIRECTIONS),
        (GOOD | {"rule": "sideways"}, 400, "rule", "rule must be one of above, below, change"),
        (GOOD | {"rule": "below"}, 422, "direction", "direction must be below (or left out)"),
        (GOOD | {"threshold": "abc"}, 400, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": "1,2,3"}, 400, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": -5}, 400, "threshold", "threshold must be greater than 0"),
        (GOOD | {"threshold": 0}, 400, "threshold", "threshold must be greater than 0"),
        (GOOD | {"threshold": float("nan")}, 400, "threshold", "threshold must be a finite number"),
        (GOOD | {"threshold": float("inf")}, 400, "threshold", "threshold must be a finite number"),
        (GOOD | {"threshold": "Infinity"}, 400, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": True}, 400, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": [1]}, 400, "threshold", "threshold must be a number"),
        ({k: v for k, v in CHANGE.items() if k != "percent"}, 422, "percent", "percent is required for a change rule"),
        (CHANGE | {"percent": 0}, 422, "percent", "percent must be greater than 0"),
        (CHANGE | {"percent": -2}, 422, "percent", "percent must be greater than 0"),
        (CHANGE | {"percent": 1000.5}, 422, "percent", "percent must be greater than 0 and at most 1000"),
        (CHANGE | {"window": None}, 422, "window", "window is required"),
        (CHANGE | {"window": "4m"}, 422, "window", "window must be from 5 min to 7 d"),
        (CHANGE | {"window": 604801}, 400, "window", "window must be from 5 min to 7 d"),
        (CHANGE | {"window": "an hour"}, 400, "window", "window must be a number of seconds or a duration"),
        (CHANGE | {"window": 1.5}, 400, "window", "window must be a number of seconds or a duration"),
        (CHANGE | {"direction": "sideways"}, 400, "direction", DIRECTIONS),
        (GOOD | {"frequency": "daily"}, 400, "frequency", "frequency must be one of once, every_time"),
        (GOOD | {"frequency": "every_time", "cooldown": 59}, 400, "cooldown", "cooldown must be from 1 min to 30 d"),
        (GOOD | {"cooldown": 600}, 422, "cooldown", "cooldown applies only to every_time alerts"),
        (GOOD | {"expires_at": "2026-11-25T11:59:59Z"}, 422, "expires_at", "expires_at must be in the future"),
        (GOOD | {"expires_at": "2027-01-01T00:00:00"}, 400, "expires_at", "expires_at must be an ISO 8601 time with a"),
        (GOOD | {"expires_at": "tomorrow"}, 400, "expires_at", "expires_at must be an ISO 8601 time with a"),
        (GOOD | {"expires_at": 1767225600}, 400, "expires_at", "expires_at must be an ISO 8601 time with a"),
        (GOOD | {"note": "x" * 201}, 400, "note", "note must be at most 200 characters (it has 201)"),
        (GOOD | {"note": "line\nbreak"}, 400, "note", "note must be one line of text without control characters"),
        (GOOD | {"note": 5}, 400, "note", "note must be a string"),
        (GOOD | {"channels": "1"}, 400, "channels", "channels must be a list of channel ids"),
        (GOOD | {"channels": [1, "2"]}, 400, "channels", "channels must be a list of channel ids"),
        (GOOD | {"channels": [True]}, 400, "channels", "channels must be a list of channel ids"),
        (GOOD | {"channels": [0]}, 400, "channels", "channels must be a list of channel ids"),
        (GOOD | {"threshold": "1e14"}, 422, "threshold", "threshold is too large"),
        (GOOD | {"threshold": 1e14}, 400, "threshold", "threshold is too large"),
        (GOOD | {"threshold": "1e-11"}, 422, "threshold", "threshold must be at least 1e-10"),
        (GOOD | {"threshold": "+5"}, 400, "threshold", "threshold must be a number"),
        (CHANGE | {"direction": "above"}, 422, "direction", "direction must be one of up, down, either"),
        (CHANGE | {"percent": "1001"}, 422, "percent", "percent must be greater than 0 and at most 1000"),
        (GOOD | {"expires_at": "0001-01-01T00:00:00+14:00"}, 422, "expires_at", "expires_at is out of range in UTC"),
        (GOOD | {"note": "\nbreak"}, 400, "note", "note must be one line of text without control characters"),
        (CROSS | {"direction": "up"}, 422, "direction", "direction must be above or below for the cross rule"),
        ({k: v for k, v in CROSS.items() if k != "indicator"}, 422, "indicator", "indicator is required for the cross"),
        (CROSS | {"indicator": "rsi"}, 422, "indicator", "indicator must be sma or ema for the cross rule"),
        (CROSS | {"indicator": "wma"}, 400, "indicator", "indicator must be sma or ema for the cross rule"),
        ({k: v for k, v in CROSS.items() if k != "period"}, 422, "period", "period is required"),
        (CROSS | {"period": 1}, 400, "period", "period must be from 2 to 500"),
        (CROSS | {"period": "20"}, 400, "period", "period must be a whole number"),
        (CROSS | {"timeframe": "5m"}, 400, "timeframe", "timeframe must be one of 1m, 1h, 1d"),
        (RSI | {"level": None}, 422, "level", "level is required for the rsi rule"),
        (RSI | {"level": 100}, 400, "level", "level must be greater than 0 and less than 100"),
        (RSI | {"level": "100"}, 422, "level", "level must be greater than 0 and less than 100"),
        (RSI | {"level": 0}, 400, "level", "level must be greater than 0"),
        (RSI | {"indicator": "sma"}, 422, "indicator", "indicator is rsi (or left out) for the rsi rule"),
        (GOOD | {"percent": 5}, 422, "percent", "percent does not go with the above rule"),
        (CHANGE | {"threshold": "100"}, 422, "threshold", "threshold does not go with the change rule"),
        (RSI | {"window": "1h"}, 422, "window", "window does not go with the rsi rule"),
        (CROSS | {"level": "i:x"}, 422, "level", "level does not go with the cross rule"),
    ],
)
def test_bad_alerts_name_the_field(body, status, field, message):
    """400: a field not of its documented form; 422: fields that do not go together, or text out of
    the range the document gives numbers (a pattern cannot state one)."""
    with pytest.raises(ApiError) as caught:
        parse(body)
    assert caught.value.status == status
    assert caught.value.field == field
    assert message in caught.value.message


def test_symbols_and_points():
    assert normalise_symbol(" eth-usd ") == "ETH-USD"
    assert parse_points(None, 100) == 100
    assert parse_points("25", 100) == 25
    for bad in ("0", "-3", "x", "10001"):
        with pytest.raises(ApiError, match="points must be a whole number"):
            parse_points(bad, 100)


@pytest.mark.parametrize("raw", ["٣", "²", "３", "1٠", " 3", "3.5", "3.", "-3", ""])
def test_whole_numbers_are_ascii_digits_only(raw):
    with pytest.raises(ApiError) as caught:
        parse_whole(raw, "max_points", 500, 2, 1000)
    assert (caught.value.status, caught.value.field) == (400, "max_points")
    assert str(caught.value) == "max_points must be a whole number from 2 to 1000"


def test_whole_numbers_in_range_and_the_default():
    assert parse_whole("3", "points", 100, 1, 10) == 3
    assert parse_whole("3.00", "points", 100, 1, 10) == 3  # JSON Schema's integer takes 3.0
    assert parse_whole(None, "points", 100, 1, 10) == 100


@pytest.mark.parametrize("value", ["٣m", "１５m"])
def test_durations_are_ascii_digits_only(value):
    with pytest.raises(ApiError, match="cooldown must be a number of seconds or a duration"):
        parse_duration(value, "cooldown", 60, 86400)


def test_the_portfolio_rules_take_no_symbol_and_their_own_fields():
    total = parse({"rule": "total", "direction": "below", "threshold": "80,000"})
    assert (total.symbol, total.rule, total.direction, total.threshold) == (None, "total", "below", Decimal(80000))
    daily = parse_alert({"rule": "daily", "at": "07:05", "channels": [2]}, NOW, zone="Europe/Paris")
    assert (daily.symbol, daily.direction, daily.daily_at, daily.timezone) == (
        None,
        "daily",
        time(7, 5),
        "Europe/Paris",
    )
    assert (daily.frequency, daily.cooldown_seconds, daily.channels) == ("every_time", 0, (2,))
    assert parse({"rule": "daily", "at": "23:59", "timezone": "America/New_York"}).timezone == "America/New_York"


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ({"rule": "total", "symbol": "BTC-USD", "direction": "above", "threshold": 5}, 422, "symbol",
         "symbol does not go with the total rule: it is on the whole portfolio"),
        ({"rule": "total", "threshold": 5}, 422, "direction", "direction is required for the total rule"),
        ({"rule": "total", "direction": "up", "threshold": 5}, 422, "direction", "direction is required"),
        ({"rule": "total", "direction": "above"}, 422, "threshold", "threshold is required for the total rule"),
        ({"rule": "total", "direction": "above", "threshold": 5, "at": "10:00"}, 422, "at",
         "at does not go with the total rule"),
        ({"rule": "daily"}, 422, "at", "at is required for the daily rule: a time of day as HH:MM"),
        ({"rule": "daily", "at": 1800}, 400, "at", "at must be a time of day as HH:MM, like 18:00"),
        ({"rule": "daily", "at": "24:00"}, 400, "at", "at must be a time of day as HH:MM"),
        ({"rule": "daily", "at": "7:30"}, 400, "at", "at must be a time of day as HH:MM"),
        ({"rule": "daily", "at": "07:30", "timezone": "Mars/Olympus"}, 422, "timezone",
         "timezone 'Mars/Olympus' is not a timezone this server knows"),
        ({"rule": "daily", "at": "07:30", "timezone": "../../etc/passwd"}, 400, "timezone",
         "timezone must be an IANA timezone name"),
        ({"rule": "daily", "at": "07:30", "frequency": "once"}, 422, "frequency",
         "frequency does not go with the daily rule: it goes out every day"),
        ({"rule": "daily", "at": "07:30", "cooldown": 600}, 422, "cooldown", "cooldown does not go with the daily"),
        ({"rule": "daily", "at": "07:30", "threshold": 5}, 422, "threshold", "threshold does not go with the daily"),
        ({"rule": "change", "percent": 5, "window": "1h"}, 422, "symbol", "symbol is required for the change rule"),
        ({"threshold": 5}, 422, "rule", "rule is required (above, below, change"),
    ],
)  # fmt: skip
def test_bad_portfolio_alerts_name_the_field(body, status, field, message):
    with pytest.raises(ApiError) as caught:
        parse(body)
    assert (caught.value.status, caught.value.field) == (status, field)
    assert message in caught.value.message
