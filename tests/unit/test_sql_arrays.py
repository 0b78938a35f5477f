"""Array literals (app/sql_arrays.py) read back by PostgreSQL's own rules: checked here against
the array text PostgreSQL itself documents (quoting, escapes, NULL)."""

from datetime import UTC, datetime
from decimal import Decimal

from app.sql_arrays import literal


def test_each_element_is_quoted_and_escaped_and_none_is_null():
    assert literal(["BTC-USD", 'a"b', "c\\d", "", None, "NULL"]) == '{"BTC-USD","a\\"b","c\\\\d","",NULL,"NULL"}'


def test_numbers_times_and_flags_go_as_their_exact_text():
    at = datetime(2026, 12, 6, 14, 0, 0, 123456, tzinfo=UTC)
    assert literal([Decimal("100.0000000001"), Decimal("1E-10"), 7, True, at]) == (
        '{"100.0000000001","1E-10","7","True","2026-12-06 14:00:00.123456+00:00"}'
    )
    assert literal([]) == "{}"
