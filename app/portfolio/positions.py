"""Positions from transactions, by average cost. Decimal throughout: no float touches money.

Method (the one most brokers' statements and Yahoo's portfolios use for a running position):
- A buy adds its quantity, and ``quantity x price + fees`` to the position's cost.
- A sell removes its quantity and the average cost of what it sold (the cost in proportion,
  ``cost x sold / held``: selling everything leaves a cost of exactly 0), and realises
  ``quantity x price - fees - that cost``.
- Transactions count in date order, ties by id (the order they were entered). A sell of more than
  is held at its date is refused: a position never goes short.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Literal

Side = Literal["buy", "sell"]
SIDES: tuple[Side, ...] = ("buy", "sell")
# Quotients (the cost of part of a position) keep this many significant digits; stored money has
# at most 24 (numeric(24, 10)), so nothing a person reads is rounded by the arithmetic.
PRECISION = 40
ZERO = Decimal(0)


@dataclass(frozen=True)
class Trade:
    """One transaction as the arithmetic needs it."""

    id: int
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fees: Decimal
    at: datetime


@dataclass(frozen=True)
class Position:
    symbol: str
    quantity: Decimal = ZERO  # held now
    cost: Decimal = ZERO  # what the quantity held cost, fees included (average cost x quantity)
    realised: Decimal = ZERO  # P&L of what was sold: proceeds less fees less its average cost
    fees: Decimal = ZERO  # all fees paid, buys and sells
    invested: Decimal = ZERO  # every buy's quantity x price + fees: what went in over time

    @property
    def average_cost(self) -> Decimal | None:
        """Cost of one unit held, fees included; None with nothing held."""
        if not self.quantity:
            return None
        with localcontext(prec=PRECISION):
            return self.cost / self.quantity


def plain(value: Decimal) -> str:
    """A decimal as a person writes it: no padding zeros, no exponent (1.5000000000 -> 1.5, 1E+2 -> 100)."""
    return format(value.normalize(), "f")


class Oversold(ValueError):
    """A sell of more than the position held at that date."""

    def __init__(self, trade: Trade, held: Decimal) -> None:
        day = trade.at.date().isoformat()
        super().__init__(
            f"sell of {plain(trade.quantity)} {trade.symbol} on {day} is more than the {plain(held)} held then"
        )
        self.trade = trade
        self.held = held


def in_order(trades: Iterable[Trade]) -> list[Trade]:
    """The order transactions count in: by date, then by id."""
    return sorted(trades, key=lambda t: (t.at, t.id))


def apply(position: Position, trade: Trade) -> Position:
    """The position after one more transaction; raises Oversold for a sell of more than is held."""
    with localcontext(prec=PRECISION):
        if trade.side == "buy":
            spent = trade.quantity * trade.price + trade.fees
            return replace(
                position,
                quantity=position.quantity + trade.quantity,
                cost=position.cost + spent,
                fees=position.fees + trade.fees,
                invested=position.invested + spent,
            )
        if trade.quantity > position.quantity:
            raise Oversold(trade, position.quantity)
        left = position.quantity - trade.quantity
        sold_cost = position.cost if not left else position.cost * trade.quantity / position.quantity
        return replace(
            position,
            quantity=left,
            cost=position.cost - sold_cost,
            realised=position.realised + trade.quantity * trade.price - trade.fees - sold_cost,
            fees=position.fees + trade.fees,
        )


def positions(trades: Iterable[Trade]) -> dict[str, Position]:
    """Each symbol's position after all its transactions (closed ones too: their realised P&L stays)."""
    held: dict[str, Position] = {}
    for trade in in_order(trades):
        held[trade.symbol] = apply(held.get(trade.symbol) or Position(trade.symbol), trade)
    return held
