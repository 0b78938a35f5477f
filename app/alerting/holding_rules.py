"""The alert check's part for alerts on positions (rules ``value`` and ``pnl``, app/alerting/rules.py).

A batch's ticks of a symbol with such alerts are seen as the position's figure at each tick: the
quantity held now times the tick's price (``value``), or that against the position's cost, in %
(``pnl``). Positions come from the transactions (app/portfolio/positions.py), read once per batch
for the symbols that have these alerts; the figure goes in ``Observation.reference`` and the
tick's own price stays the event's price.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import localcontext
from typing import Any

from sqlalchemy import select, text

from app.alerting.rules import Observation
from app.extensions import db
from app.market.ticks import Tick
from app.models import Transaction
from app.portfolio.positions import PRECISION, Position, positions
from app.portfolio.transactions import as_trade

# What the check reads of an alert (rules.AlertState), and when it looks at an active one at all.
STATE_COLUMNS = (
    "a.id, a.version, a.symbol, a.rule, a.direction, a.threshold, a.change_percent, a.window_seconds,"
    " a.frequency, a.cooldown_seconds, a.armed, a.created_at, a.triggered_at, a.level"
)
CHECKED_NOW = (
    "(a.expires_at IS NULL OR a.expires_at > statement_timestamp()) AND a.paused_at IS NULL"
    " AND (a.snoozed_until IS NULL OR a.snoozed_until <= statement_timestamp())"
)
_CANDIDATES = text(
    f"SELECT {STATE_COLUMNS} FROM alerts a "  # noqa: S608 - constants
    "WHERE a.status = 'active' AND a.rule IN ('value', 'pnl') AND a.symbol = ANY(CAST(:symbols AS text[]))"
    f" AND {CHECKED_NOW}"
)


def candidates(symbols: Sequence[str]) -> tuple[Sequence[Any], dict[str, Position]]:
    """The batch's active position alerts, and the positions of their symbols."""
    rows = db.session.execute(_CANDIDATES, {"symbols": list(symbols)}).all()
    if not rows:
        return rows, {}
    held = sorted({row.symbol for row in rows})
    trades = [as_trade(t) for t in db.session.scalars(select(Transaction).where(Transaction.symbol.in_(held)))]
    return rows, positions(trades)


def observations(rule: str, ticks: Sequence[Tick], position: Position | None) -> list[Observation]:
    """Each tick with the position's figure at its price (None with nothing held)."""
    held = position is not None and position.quantity > 0
    with localcontext(prec=PRECISION):
        return [
            Observation(t.price, t.observed_at, t.received_at, _figure(rule, t, position) if held else None)
            for t in ticks
        ]


def _figure(rule: str, tick: Tick, position: Position | None) -> Any:
    value = position.quantity * tick.price  # type: ignore[union-attr]
    if rule == "value":
        return value
    return (value - position.cost) / position.cost * 100 if position.cost else None  # type: ignore[union-attr]
