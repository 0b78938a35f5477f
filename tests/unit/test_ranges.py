from datetime import UTC, datetime, timedelta

import pytest

from app.market.ranges import RANGES, Span, parse_span, plan
from app.web.errors import ApiError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def planned(label: str, max_points: int = 500, raw_days: int = 7, minute_days: int = 90) -> tuple[int, str]:
    span = parse_span({"range": label, "max_points": str(max_points)}, NOW)
    chosen = plan(span, NOW, raw_days, minute_days)
    return chosen.bucket_seconds, chosen.source


def test_each_range_gets_the_finest_bucket_that_fits_and_its_table():
    assert planned("1h") == (10, "ticks")
    assert planned("24h") == (300, "candles_1m")
    assert planned("7d") == (1800, "candles_1m")
    assert planned("30d") == (7200, "candles_1h")
    assert planned("1y") == (86_400, "candles_1d")
    assert planned("1y", max_points=2000) == (21_600, "candles_1h")
    assert planned("1h", max_points=2000) == (2, "ticks")
    assert planned("24h", max_points=2000) == (60, "candles_1m")
    assert planned("1h", max_points=10) == (600, "candles_1m")


@pytest.mark.parametrize("label", [k for k, v in RANGES.items() if v])
@pytest.mark.parametrize("max_points", [2, 7, 100, 500, 2000])
def test_the_grid_never_holds_more_than_max_points(label, max_points):
    span = parse_span({"range": label, "max_points": str(max_points)}, NOW)
    bucket, _ = planned(label, max_points)
    assert (span.end - span.start).total_seconds() // bucket + 1 <= max_points


def test_a_range_older_than_the_raw_retention_answers_from_candles():
    old = Span(NOW - timedelta(days=10), NOW - timedelta(days=10) + timedelta(hours=1), None, 500)
    assert plan(old, NOW, raw_days=7, minute_days=90).source == "candles_1m"
    older = Span(NOW - timedelta(days=200), NOW - timedelta(days=200) + timedelta(hours=1), None, 500)
    assert plan(older, NOW, raw_days=7, minute_days=90).source == "candles_1h"


def test_from_and_to_are_parsed_as_utc():
    span = parse_span({"from": "2026-11-25T10:00:00+01:00", "to": "2026-11-25T11:00Z"}, NOW)
    assert (span.start, span.end, span.label) == (
        datetime(2026, 11, 25, 9, tzinfo=UTC),
        datetime(2026, 11, 25, 11, tzinfo=UTC),
        None,
    )
    assert parse_span({"from": "2026-11-25T10:00Z"}, NOW).end == NOW
    assert parse_span({}, NOW).label == "24h"


INSTANT = "from must be an ISO 8601 time with a timezone, like 2027-01-31T18:00:00Z"


@pytest.mark.parametrize(
    ("args", "status", "field", "message"),
    [
        ({"range": "2h"}, 400, "range", "range must be one of 1h, 24h, 7d, 30d, 1y, all"),
        ({"range": "1h", "from": "2026-11-25T10:00Z"}, 422, "range", "give either range or from/to, not both"),
        ({"to": "2026-11-25T10:00Z"}, 422, "from", "from is required with to"),
        ({"from": "yesterday"}, 400, "from", INSTANT),
        (
            {"from": "2026-11-25T10:00"},
            400,
            "from",
            INSTANT,
        ),
        (
            {"from": "2026-11-25T10:00Z", "to": "soon"},
            400,
            "to",
            "to must be an ISO 8601 time with a timezone, like 2027-01-31T18:00:00Z",
        ),
        ({"from": "2026-11-25T11:00Z", "to": "2026-11-25T10:00Z"}, 422, "from", "from must be before to"),
        ({"from": "0001-01-01T00:00:00+14:00"}, 422, "from", "from is out of range in UTC"),
        ({"max_points": "1"}, 400, "max_points", "max_points must be a whole number from 2 to 2000"),
        ({"max_points": "2001"}, 400, "max_points", "max_points must be a whole number from 2 to 2000"),
        ({"max_points": "ten"}, 400, "max_points", "max_points must be a whole number from 2 to 2000"),
        ({"max_points": "20.5"}, 400, "max_points", "max_points must be a whole number from 2 to 2000"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(args, status, field, message):
    """400: not of the documented form; 422: of the form, but the values do not go together."""
    with pytest.raises(ApiError) as caught:
        parse_span(args, NOW)
    assert (caught.value.status, caught.value.field, caught.value.message) == (status, field, message)


def test_whole_numbers_may_carry_a_zero_fraction_as_json_schema_integers_do():
    assert parse_span({"max_points": "20.0"}, NOW).max_points == 20
