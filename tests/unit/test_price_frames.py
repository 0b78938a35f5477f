"""A page's subscription and the compact price frame (app/web/price_frames.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.web.price_frames import (
    MAX_SYMBOLS,
    Encoder,
    Subscription,
    SubscriptionError,
    Symbols,
    parse_subscription,
    pick,
)


def tick(symbol: str, price: float, second: int, source: str = "simulated", late_ms: int = 120) -> dict:
    observed = datetime(2026, 12, 6, 7, 0, second, 250_000, tzinfo=UTC)
    received = observed.timestamp() + late_ms / 1000
    return {
        "symbol": symbol, "price": price, "observed_at": observed.isoformat(),
        "received_at": datetime.fromtimestamp(received, UTC).isoformat(), "source": source,
    }  # fmt: skip


def test_a_subscription_is_two_sets_and_a_symbol_shown_is_not_kept_twice():
    message = {"type": "subscribe", "live": ["BTC-USD", "ETH-USD"], "slow": ["ETH-USD", "AAPL"]}
    got = parse_subscription(json.dumps(message))
    assert got == Subscription(Symbols(("BTC-USD", "ETH-USD"), hash(("BTC-USD", "ETH-USD"))), Symbols.of({"AAPL"}))
    assert parse_subscription('{"type": "subscribe"}') == Subscription(Symbols((), hash(())), Symbols.of(set()))
    assert parse_subscription('{"type": "hello"}') is None  # another kind of message: not ours
    assert parse_subscription("[1, 2]") is None


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ({"type": "subscribe", "live": "BTC-USD"}, "'live'"),
        ({"type": "subscribe", "live": [1]}, "'live'"),
        ({"type": "subscribe", "slow": [""]}, "'slow'"),
        ({"type": "subscribe", "slow": ["X" * 33]}, "'slow'"),
        ({"type": "subscribe", "live": [f"S{n}" for n in range(MAX_SYMBOLS + 1)]}, "'live'"),
    ],
)
def test_a_subscription_it_cannot_take_names_the_field(message: dict, named: str):
    refusal = f"^{named} must be a list of at most 2000 symbols of 1 to 32 characters$"
    with pytest.raises(SubscriptionError, match=refusal):
        parse_subscription(json.dumps(message))
    with pytest.raises(SubscriptionError, match="^not JSON: "):
        parse_subscription('{"type": "subscribe", "live": ')


def test_the_compact_frame_carries_each_symbols_newest_price_with_its_times_and_source():
    encoder = Encoder()
    fragments = encoder.fragments(
        [tick("BTC-USD", 97000.5, 1), tick("BTC-USD", 97001.25, 3), tick("BTC-USD", 96999.0, 2),
         tick("AAPL", 190.12, 2, source="yahoo", late_ms=1500)]
    )  # fmt: skip
    frame = json.loads(encoder.frame(pick(fragments, Symbols.of({"BTC-USD", "AAPL", "MSFT"}))))
    assert frame["type"] == "ticks" and frame["sources"] == ["simulated", "yahoo"]
    observed_3 = round(datetime(2026, 12, 6, 7, 0, 3, 250_000, tzinfo=UTC).timestamp() * 1000)
    observed_2 = observed_3 - 1000
    assert frame["ticks"] == [["AAPL", 190.12, observed_2, 1500, 1], ["BTC-USD", 97001.25, observed_3, 120, 0]]
    # a source keeps its number for the process: a fragment made earlier stays right in a later frame
    later = encoder.fragments([tick("ETH-USD", 3000.0, 4, source="ccxt:kraken"), tick("MSFT", 400.0, 4, "yahoo")])
    frame = json.loads(encoder.frame([fragments["AAPL"], later["ETH-USD"], later["MSFT"]]))
    assert frame["sources"] == ["simulated", "yahoo", "ccxt:kraken"]
    named = [(t[0], frame["sources"][t[4]]) for t in frame["ticks"]]
    assert named == [("AAPL", "yahoo"), ("ETH-USD", "ccxt:kraken"), ("MSFT", "yahoo")]


def test_the_compact_frame_is_a_third_of_the_old_one_or_less():
    prices = [tick(f"L{n:03d}-USD", 100 + n / 7, n % 60) for n in range(500)]
    old = json.dumps({"type": "prices", "prices": prices}, separators=(",", ":"))
    encoder = Encoder()
    compact = encoder.frame(list(encoder.fragments(prices).values()))
    assert len(compact) * 3 <= len(old), (len(compact), len(old))


def test_pick_takes_the_wanted_symbols_in_their_order():
    fragments = {"A": "a", "B": "b", "C": "c"}
    assert pick(fragments, Symbols.of({"C", "A", "Z"})) == ["a", "c"]
    assert pick(fragments, Symbols.of({"B"})) == ["b"]
    assert pick(fragments, Symbols.of({"A", "B", "C", "D", "E"})) == ["a", "b", "c"]
    assert pick(fragments, Symbols.of(set())) == []
