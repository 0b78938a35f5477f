"""Positions by average cost (app/portfolio/positions.py), against an exact reference in fractions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.portfolio.positions import Oversold, Position, Trade, positions

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)
money = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4)
amounts = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1000"), places=8)
fees = st.decimals(min_value=Decimal(0), max_value=Decimal("50"), places=2)


def trade(id: int, side: str, quantity: str, price: str, fees: str = "0", day: int = 0, symbol: str = "BTC-USD"):
    return Trade(id, symbol, side, Decimal(quantity), Decimal(price), Decimal(fees), DAY0 + timedelta(days=day))  # type: ignore[arg-type]


@st.composite
def histories(draw: st.DrawFn) -> list[Trade]:
    """Buys and sells of two symbols over a few days, never selling more than is held by then."""
    made: list[Trade] = []
    held: dict[str, Decimal] = {}
    day = 0
    for id in range(draw(st.integers(1, 25))):
        symbol = draw(st.sampled_from(["BTC-USD", "AAPL"]))
        day += draw(st.integers(0, 1))  # dates only move forward; same-day ties count by id
        if held.get(symbol) and draw(st.booleans()):
            part = draw(st.sampled_from([Decimal(1), Decimal("0.5"), Decimal("0.1"), Decimal("0.333")]))
            quantity = min(held[symbol], (held[symbol] * part).quantize(Decimal("1e-8")) or held[symbol])
            side = "sell"
        else:
            quantity, side = draw(amounts), "buy"
        held[symbol] = held.get(symbol, Decimal(0)) + (quantity if side == "buy" else -quantity)
        made.append(Trade(id, symbol, side, quantity, draw(money), draw(fees), DAY0 + timedelta(days=day)))
    return made


def reference(trades: list[Trade]) -> dict[str, tuple[Fraction, Fraction, Fraction]]:
    """(quantity, cost, realised) per symbol, exactly, by the stated method: written apart on purpose."""
    out: dict[str, tuple[Fraction, Fraction, Fraction]] = {}
    for t in sorted(trades, key=lambda t: (t.at, t.id)):
        q, cost, realised = out.get(t.symbol, (Fraction(0), Fraction(0), Fraction(0)))
        qty, price, fee = Fraction(t.quantity), Fraction(t.price), Fraction(t.fees)
        if t.side == "buy":
            out[t.symbol] = (q + qty, cost + qty * price + fee, realised)
        else:
            average = cost / q
            out[t.symbol] = (q - qty, cost - average * qty, realised + qty * price - fee - average * qty)
    return out


@settings(max_examples=300, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_any_order_of_entry_gives_the_reference_position(trades: list[Trade], rng: random.Random):
    shuffled = trades[:]
    rng.shuffle(shuffled)  # entered in any order: they count by date, then id
    got = positions(shuffled)
    assert got == positions(trades)
    want = reference(trades)
    assert set(got) == set(want)
    for symbol, (quantity, cost, realised) in want.items():
        position = got[symbol]
        assert isinstance(position.cost, Decimal) and isinstance(position.realised, Decimal)
        assert Fraction(position.quantity) == quantity  # quantities add and subtract exactly
        assert abs(Fraction(position.cost) - cost) < Fraction(1, 10**20)
        assert abs(Fraction(position.realised) - realised) < Fraction(1, 10**20)
        if not quantity:
            assert position.cost == 0 and position.average_cost is None  # sold out: nothing left over


def test_a_worked_example():
    got = positions(
        [
            trade(1, "buy", "2", "100", "1"),  # cost 201
            trade(2, "buy", "1", "130", "2", day=1),  # cost 333, 3 held: 111 each
            trade(3, "sell", "1.5", "150", "3", day=2),  # proceeds 225 - 3 - 166.5 = 55.5
        ]
    )["BTC-USD"]
    assert got == Position("BTC-USD", Decimal("1.5"), Decimal("166.5"), Decimal("55.5"), Decimal("6"), Decimal("333"))
    assert got.average_cost == Decimal("111")


def test_a_sell_counts_at_its_date_not_its_entry():
    # Entered first, dated after the buy: fine. A sell dated before any buy: refused.
    assert positions([trade(1, "sell", "1", "10", day=2), trade(2, "buy", "1", "5", day=1)])["BTC-USD"].realised == 5
    with pytest.raises(Oversold, match=r"^sell of 1 BTC-USD on 2026-01-01 is more than the 0 held then$"):
        positions([trade(1, "sell", "1", "10", day=0), trade(2, "buy", "1", "5", day=1)])


def test_selling_more_than_held_is_refused_and_names_what_was_held():
    with pytest.raises(Oversold, match=r"^sell of 2\.5 BTC-USD on 2026-01-02 is more than the 2 held then$") as refused:
        positions([trade(1, "buy", "2", "10"), trade(2, "sell", "2.5", "10", day=1)])
    assert refused.value.trade.id == 2 and refused.value.held == 2


def test_a_third_sold_three_times_leaves_exactly_nothing():
    trades = [trade(1, "buy", "3", "10", "1")] + [trade(2 + n, "sell", "1", "11", day=1) for n in range(3)]
    got = positions(trades)["BTC-USD"]
    assert (got.quantity, got.cost, got.realised) == (0, 0, Decimal("2"))  # 33 in, 31 cost: 33 - 31 = 2
