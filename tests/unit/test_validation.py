from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.web.errors import ApiError
from app.web.validation import AlertSpec, normalise_symbol, parse_alert, parse_duration, parse_points, parse_whole

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GOOD = {"symbol": "btc-usd", "direction": "above", "threshold": 100000}
CHANGE = {"symbol": "DOGE-USD", "rule": "change", "percent": 5, "window": "1h"}


def parse(body: object) -> AlertSpec:
    return parse_alert(body, NOW)


def test_the_first_api_form_is_still_read_as_a_threshold_rule():
    assert parse(GOOD) == AlertSpec("BTC-USD", "above", "above", threshold=Decimal(100000))
    assert parse(GOOD | {"threshold": "0.15", "direction": "below"}).threshold == Decimal("0.15")
    assert parse(GOOD | {"threshold": "12,345.6"}).threshold == Decimal("12345.6")  # as the page shows prices


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


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], None, "request body must be a JSON object"),
        (None, None, "request body must be a JSON object"),
        ({"direction": "above", "threshold": 1}, "symbol", "symbol is required"),
        (GOOD | {"direction": None}, "rule", "rule is required"),
        ({"symbol": "BTC-USD", "direction": "above"}, "threshold", "threshold is required"),
        (GOOD | {"symbol": 5}, "symbol", "symbol must be a non-empty string"),
        (GOOD | {"symbol": "<img src=x>"}, "symbol", "is not a valid symbol"),
        (GOOD | {"direction": "sideways"}, "rule", "rule is required"),
        (GOOD | {"rule": "sideways"}, "rule", "rule must be one of above, below, change"),
        (GOOD | {"rule": "below"}, "direction", "direction must be below (or left out)"),
        (GOOD | {"threshold": "abc"}, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": "1,2,3"}, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": -5}, "threshold", "threshold must be greater than 0"),
        (GOOD | {"threshold": 0}, "threshold", "threshold must be greater than 0"),
        (GOOD | {"threshold": float("nan")}, "threshold", "threshold must be a finite number"),
        (GOOD | {"threshold": float("inf")}, "threshold", "threshold must be a finite number"),
        (GOOD | {"threshold": "Infinity"}, "threshold", "threshold must be a finite number"),
        (GOOD | {"threshold": True}, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": [1]}, "threshold", "threshold must be a number"),
        ({k: v for k, v in CHANGE.items() if k != "percent"}, "percent", "percent is required for a change rule"),
        (CHANGE | {"percent": 0}, "percent", "percent must be greater than 0"),
        (CHANGE | {"percent": -2}, "percent", "percent must be greater than 0"),
        (CHANGE | {"percent": 1000.5}, "percent", "percent must be greater than 0 and at most 1000"),
        (CHANGE | {"window": None}, "window", "window is required"),
        (CHANGE | {"window": "4m"}, "window", "window must be from 5 min to 7 d"),
        (CHANGE | {"window": 604801}, "window", "window must be from 5 min to 7 d"),
        (CHANGE | {"window": "an hour"}, "window", "window must be a number of seconds or a duration"),
        (CHANGE | {"window": 1.5}, "window", "window must be a number of seconds or a duration"),
        (CHANGE | {"direction": "sideways"}, "direction", "direction must be one of up, down, either"),
        (GOOD | {"frequency": "daily"}, "frequency", "frequency must be one of once, every_time"),
        (GOOD | {"frequency": "every_time", "cooldown": 59}, "cooldown", "cooldown must be from 1 min to 30 d"),
        (GOOD | {"cooldown": 600}, "cooldown", "cooldown applies only to every_time alerts"),
        (GOOD | {"expires_at": "2026-11-25T11:59:59Z"}, "expires_at", "expires_at must be in the future"),
        (GOOD | {"expires_at": "2027-01-01T00:00:00"}, "expires_at", "expires_at must be an ISO 8601 time with a"),
        (GOOD | {"expires_at": "tomorrow"}, "expires_at", "expires_at must be an ISO 8601 time with a"),
        (GOOD | {"expires_at": 1767225600}, "expires_at", "expires_at must be an ISO 8601 time with a"),
        (GOOD | {"note": "x" * 201}, "note", "note must be at most 200 characters (it has 201)"),
        (GOOD | {"note": "line\nbreak"}, "note", "note must be one line of text without control characters"),
        (GOOD | {"note": 5}, "note", "note must be a string"),
        (GOOD | {"channels": "1"}, "channels", "channels must be a list of channel ids"),
        (GOOD | {"channels": [1, "2"]}, "channels", "channels must be a list of channel ids"),
        (GOOD | {"channels": [True]}, "channels", "channels must be a list of channel ids"),
    ],
)
def test_bad_alerts_name_the_field(body, field, message):
    with pytest.raises(ApiError) as caught:
        parse(body)
    assert caught.value.status == 400
    assert caught.value.field == field
    assert message in caught.value.message


def test_symbols_and_points():
    assert normalise_symbol(" eth-usd ") == "ETH-USD"
    assert parse_points(None, 100) == 100
    assert parse_points("25", 100) == 25
    for bad in ("0", "-3", "x", "10001"):
        with pytest.raises(ApiError, match="points must be a whole number"):
            parse_points(bad, 100)


@pytest.mark.parametrize("raw", ["٣", "²", "３", "1٠", " 3", "3.0", "-3", ""])
def test_whole_numbers_are_ascii_digits_only(raw):
    with pytest.raises(ApiError) as caught:
        parse_whole(raw, "max_points", 500, 2, 1000)
    assert (caught.value.status, caught.value.field) == (400, "max_points")
    assert str(caught.value) == "max_points must be a whole number from 2 to 1000"


def test_whole_numbers_in_range_and_the_default():
    assert parse_whole("3", "points", 100, 1, 10) == 3
    assert parse_whole(None, "points", 100, 1, 10) == 100


@pytest.mark.parametrize("value", ["٣m", "１５m"])
def test_durations_are_ascii_digits_only(value):
    with pytest.raises(ApiError, match="cooldown must be a number of seconds or a duration"):
        parse_duration(value, "cooldown", 60, 86400)
