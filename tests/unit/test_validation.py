from decimal import Decimal

import pytest

from app.errors import ApiError
from app.validation import normalise_symbol, parse_alert, parse_points

GOOD = {"symbol": "btc-usd", "direction": "above", "threshold": 100000}


def test_a_good_alert_is_normalised():
    assert parse_alert(GOOD) == ("BTC-USD", "above", Decimal(100000))
    assert parse_alert(GOOD | {"threshold": "0.15", "direction": "below"}) == ("BTC-USD", "below", Decimal("0.15"))


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], None, "request body must be a JSON object"),
        (None, None, "request body must be a JSON object"),
        ({"direction": "above", "threshold": 1}, "symbol", "symbol is required"),
        (GOOD | {"direction": None}, "direction", "direction is required"),
        ({"symbol": "BTC-USD", "direction": "above"}, "threshold", "threshold is required"),
        (GOOD | {"symbol": 5}, "symbol", "symbol must be a non-empty string"),
        (GOOD | {"symbol": "<img src=x>"}, "symbol", "is not a valid symbol"),
        (GOOD | {"direction": "sideways"}, "direction", "direction must be one of above, below"),
        (GOOD | {"threshold": "abc"}, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": -5}, "threshold", "threshold must be greater than 0"),
        (GOOD | {"threshold": 0}, "threshold", "threshold must be greater than 0"),
        (GOOD | {"threshold": float("nan")}, "threshold", "threshold must be a finite number"),
        (GOOD | {"threshold": float("inf")}, "threshold", "threshold must be a finite number"),
        (GOOD | {"threshold": "Infinity"}, "threshold", "threshold must be a finite number"),
        (GOOD | {"threshold": True}, "threshold", "threshold must be a number"),
        (GOOD | {"threshold": [1]}, "threshold", "threshold must be a number"),
    ],
)
def test_bad_alerts_name_the_field(body, field, message):
    with pytest.raises(ApiError) as caught:
        parse_alert(body)
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
