import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.market.ticks import Tick, TickError, check_recent

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def make_tick(**changes) -> Tick:
    values = {
        "symbol": "DOGE-USD",
        "price": Decimal("0.1623457"),
        "observed_at": NOW,
        "received_at": NOW + timedelta(milliseconds=250),
        "source": "simulated",
    }
    return Tick(**(values | changes))


def test_round_trip_keeps_every_digit_and_both_timestamps():
    tick = make_tick()
    decoded = Tick.decode(tick.encode())
    assert decoded == tick
    message = tick.to_message()
    assert message["v"] == 1
    assert message["price"] == "0.1623457"
    assert message["observed_at"] == "2026-11-24T12:00:00+00:00"
    assert message["received_at"] == "2026-11-24T12:00:00.250000+00:00"


def test_timestamps_are_converted_to_utc():
    message = make_tick().to_message() | {"observed_at": "2026-11-24T13:00:00+01:00"}
    assert Tick.from_message(message).observed_at == NOW
    assert Tick.from_message(message).observed_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"v": 2}, "unsupported schema version 2"),
        ({"symbol": "btc usd"}, "invalid symbol 'btc usd'"),
        ({"source": "nasdaq"}, "invalid source 'nasdaq'"),
        ({"price": "abc"}, "price must be a number"),
        ({"price": "NaN"}, "price must be a finite number"),
        ({"price": "-1"}, "price must be greater than 0"),
        ({"price": True}, "price must be a number"),
        ({"price": "1e20"}, "price is too large"),
        ({"price": "1e-11"}, "price must be at least 1e-10, the smallest price stored"),
        ({"price": "٣"}, "price must be a number"),  # Decimal() would read it as 3
        ({"price": 1e-30}, "price must be at least 1e-10, the smallest price stored"),
        ({"observed_at": "yesterday"}, "observed_at must be an ISO 8601 timestamp"),
        ({"received_at": "2026-11-24T12:00:00"}, "received_at must carry a timezone"),
    ],
)
def test_invalid_messages_say_which_field(change, error):
    with pytest.raises(TickError, match=error):
        Tick.from_message(make_tick().to_message() | change)


def test_non_json_is_rejected():
    with pytest.raises(TickError, match="not JSON"):
        Tick.decode(b"\xff{")
    with pytest.raises(TickError, match="must be a JSON object"):
        Tick.decode(b"[1, 2]")


def test_other_timezones_are_accepted():
    tz = timezone(timedelta(hours=-5))
    tick = make_tick(observed_at=NOW.astimezone(tz))
    assert Tick.decode(tick.encode()).observed_at == NOW


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"observed_at": NOW + timedelta(hours=1, seconds=1)}, "observed_at is more than an hour ahead of this clock"),
        ({"received_at": NOW + timedelta(hours=2)}, "received_at is more than an hour ahead of this clock"),
        ({"observed_at": NOW - timedelta(days=30, seconds=1)}, "observed_at is more than 30 days old"),
    ],
)
def test_a_tick_far_from_the_clock_is_refused(change, error):
    with pytest.raises(TickError, match=error):
        check_recent(make_tick(**change), NOW)


def test_a_tick_within_the_window_passes():
    for moment in (NOW - timedelta(days=29), NOW + timedelta(minutes=59)):
        check_recent(make_tick(observed_at=moment, received_at=moment), NOW)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
        (b"1" * 5000, "not JSON"),  # an integer past Python's digit limit
    ],
)
def test_records_that_break_the_json_reader_are_tick_errors(raw, error):
    with pytest.raises(TickError, match=error):
        Tick.decode(raw)


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_times_past_the_ends_of_the_calendar_in_utc_are_tick_errors(when):
    message = make_tick().to_message() | {"observed_at": when}
    with pytest.raises(TickError, match="observed_at is out of range in UTC"):
        Tick.decode(json.dumps(message).encode())


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
EXTREME_NUMBERS = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e999999999", "-0", "0E-1000", "1e-11", "9" * 5000]),
)
EXTREME_TIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-02-30T00:00:00Z"]),
    st.text(max_size=40),
)


def decodes_or_refuses(raw: bytes) -> None:
    """The bridge's contract with the decoder: a Tick that passes or fails check_recent with a
    TickError, or a TickError; nothing else, whatever the record."""
    try:
        tick = Tick.decode(raw)
        check_recent(tick, NOW)
    except TickError:
        return
    assert isinstance(tick, Tick)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_to_a_tick_or_a_tick_error(raw):
    decodes_or_refuses(raw)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_decodes_to_a_tick_or_a_tick_error(value):
    decodes_or_refuses(json.dumps(value).encode())


@settings(max_examples=500, deadline=None)
@given(EXTREME_NUMBERS, EXTREME_TIMES, EXTREME_TIMES)
def test_extreme_prices_and_times_decode_to_a_tick_or_a_tick_error(price, observed, received):
    message = make_tick().to_message() | {"price": price, "observed_at": observed, "received_at": received}
    decodes_or_refuses(json.dumps(message).encode())
