"""What the positions are worth now: each in its symbol's currency, the totals in BASE_CURRENCY.

- value = quantity x the newest stored price (the one path: what the page shows is stored).
- Day change: what the position gained since the price 24 h ago, counting what was traded since
  at its own price: value now - value then + sells' proceeds since - buys' cost since (a position
  bought an hour ago changes from its buy price, not from yesterday's).
- Unrealised P&L = value - cost; total P&L = unrealised + realised (app/portfolio/positions.py).
- Totals convert each currency at its newest rate: the FX symbol ``<CUR><BASE>=X`` (Yahoo's form,
  EURUSD=X), else the inverse of ``<BASE><CUR>=X``; a currency without a stored rate is left out
  of the totals and named in ``missing_rates``. Minor units (GBp, ZAc, ILA) count as 1/100 of theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.market.prices import latest_rows
from app.models import Symbol
from app.portfolio.positions import PRECISION, Position, Trade, apply, in_order, plain, positions

MINOR_UNITS = {"GBp": "GBP", "GBX": "GBP", "ZAc": "ZAR", "ILA": "ILS"}  # Yahoo's pence, cents, agorot
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Rate:
    """Units of the base currency per unit of a currency, and where that came from."""

    value: Decimal
    symbol: str | None  # the FX symbol read (None: the base itself)
    at: datetime | None
    inverted: bool = False


def fx_symbol(currency: str, base: str) -> str:
    return f"{currency}{base}=X"


def inverse(pair: str, base: str) -> str:
    """EURUSD=X -> USDEUR=X: the base's own pair against that currency."""
    return fx_symbol(base, pair[: -len(base) - 2])


def needed_fx_symbols(currencies: Sequence[str | None], base: str) -> list[str]:
    """The FX symbols the totals need for these currencies (minor units read their major's)."""
    majors = {MINOR_UNITS.get(c, c) for c in currencies if c}
    return sorted(fx_symbol(c, base) for c in majors if c != base)


@dataclass(frozen=True)
class Latest:
    """A symbol's newest price as valued: latest_rows' row, or a newer tick over it."""

    symbol: str
    price: Decimal
    observed_at: datetime
    price_24h_ago: Decimal | None
    price_24h_ago_at: datetime | None


def portfolio(
    trades: Sequence[Trade], base: str, now: datetime, newer: Mapping[str, tuple[Decimal, datetime]] | None = None
) -> dict[str, Any]:
    """Positions (open ones first, then closed) with their live figures, and the totals. ``newer``:
    prices (with their times) newer than the stored ones, as the alert check has them (a batch's
    ticks, perhaps not stored yet)."""
    held = positions(trades)
    currencies = currencies_of(list(held))
    fx = needed_fx_symbols(list(currencies.values()), base)
    fx_inverse = [inverse(pair, base) for pair in fx]
    latest = {
        row.symbol: Latest(row.symbol, row.price, row.observed_at, row.price_24h_ago, row.price_24h_ago_at)
        for row in latest_rows([*held, *fx, *fx_inverse])
    }
    for symbol, (price, at) in (newer or {}).items():
        if symbol in latest and at > latest[symbol].observed_at:
            latest[symbol] = replace(latest[symbol], price=price, observed_at=at)
    rates: dict[str, Rate] = {}
    missing: set[str] = set()
    rows = []
    totals = dict.fromkeys(("value", "cost", "day_change", "unrealised", "realised"), Decimal(0))
    for symbol, position in held.items():
        currency = currencies.get(symbol) or base  # not described yet: the base currency (the answer names it)
        figures = _figures(position, latest.get(symbol), [t for t in trades if t.symbol == symbol], now)
        rate = rates.get(currency) or _rate(currency, base, latest)
        if rate is not None:
            rates[currency] = rate
            with localcontext(prec=PRECISION):
                for name in totals:
                    if figures.get(name) is not None:
                        totals[name] += figures[name] * rate.value
        else:
            missing.add(currency)
        rows.append((position, currency, figures, rate))
    total_value = totals["value"]
    out_positions = [
        _position_json(position, currency, figures, rate, total_value)
        for position, currency, figures, rate in sorted(rows, key=lambda r: (not r[0].quantity, r[0].symbol))
    ]
    with localcontext(prec=PRECISION):
        day_base = total_value - totals["day_change"]
        return {
            "base_currency": base,
            "positions": out_positions,
            "totals": {name: _money(value) for name, value in totals.items()}
            | {
                "total_pnl": _money(totals["unrealised"] + totals["realised"]),
                "day_change_percent": _percent(totals["day_change"], day_base),
            },
            "rates": {
                currency: {
                    "rate": plain(rate.value),
                    "symbol": rate.symbol,
                    "inverted": rate.inverted,
                    "at": rate.at.isoformat() if rate.at else None,
                }
                for currency, rate in sorted(rates.items())
                if rate.symbol is not None
            },  # fmt: skip
            "missing_rates": sorted(missing),
        }


def _figures(position: Position, latest: Latest | None, trades: Sequence[Trade], now: datetime) -> dict[str, Any]:
    """The position's live figures in its own currency (None where no price is stored yet)."""
    if latest is None:
        return {"price": None, "value": None, "day_change": None, "unrealised": None, "realised": position.realised,
                "cost": position.cost, "price_at": None}  # fmt: skip
    with localcontext(prec=PRECISION):
        value = position.quantity * latest.price
        since = latest.price_24h_ago_at or (now - DAY)
        then = Position(position.symbol)
        for trade in in_order(t for t in trades if t.at <= since):
            then = apply(then, trade)
        flows = sum(
            (t.quantity * t.price - t.fees if t.side == "sell" else -(t.quantity * t.price + t.fees))
            for t in trades
            if t.at > since
        )
        then_price = latest.price_24h_ago if latest.price_24h_ago is not None else latest.price
        day_change = value - then.quantity * then_price + flows
        return {
            "price": latest.price,
            "price_at": latest.observed_at,
            "value": value,
            "cost": position.cost,
            "day_change": day_change,
            "unrealised": value - position.cost,
            "realised": position.realised,
        }


def rate_source(currency: str, base: str) -> tuple[str | None, Decimal]:
    """The FX symbol a currency's rate is read from (None for the base itself), and the scale of a
    minor unit (pence: 0.01)."""
    major = MINOR_UNITS.get(currency, currency)
    scale = Decimal("0.01") if major != currency else Decimal(1)
    return (None if major == base else fx_symbol(major, base)), scale


def currencies_of(symbols: Sequence[str]) -> dict[str, str | None]:
    rows = db.session.execute(select(Symbol.symbol, Symbol.currency).where(Symbol.symbol.in_(list(symbols))))
    return dict(rows.all())


def _rate(currency: str, base: str, latest: Mapping[str, Latest]) -> Rate | None:
    source, scale = rate_source(currency, base)
    if source is None:
        return Rate(scale, None, None)
    direct, other = latest.get(source), latest.get(inverse(source, base))
    with localcontext(prec=PRECISION):
        if direct is not None:
            return Rate(direct.price * scale, direct.symbol, direct.observed_at)
        if other is not None:
            return Rate(scale / other.price, other.symbol, other.observed_at, inverted=True)
    return None


def _position_json(
    position: Position, currency: str, figures: dict[str, Any], rate: Rate | None, total_value: Decimal
) -> dict[str, Any]:
    def money(name: str) -> str | None:
        value = figures.get(name)
        return None if value is None else _money(value)

    with localcontext(prec=PRECISION):
        value, day_change = figures["value"], figures["day_change"]
        share = None if value is None or rate is None or not total_value else value * rate.value / total_value
        average = position.average_cost
        return {
            "symbol": position.symbol,
            "currency": currency,
            "quantity": plain(position.quantity),
            "average_cost": None if average is None else plain(_significant(average)),
            "price": None if figures["price"] is None else plain(figures["price"]),
            "price_at": None if figures["price_at"] is None else figures["price_at"].isoformat(),
            "value": money("value"),
            "cost": money("cost"),
            "day_change": money("day_change"),
            "day_change_percent": None if value is None else _percent(day_change, value - day_change),
            "unrealised": money("unrealised"),
            "unrealised_percent": None if value is None else _percent(figures["unrealised"], position.cost),
            "realised": money("realised"),
            "fees": plain(position.fees),
            "allocation_percent": None if share is None else float(round(share * 100, 2)),
        }


def cents(value: Decimal) -> str:
    """Money to the cent, as text: 2.50."""
    return format(value.quantize(Decimal("0.01")), "f")


def _money(value: Decimal) -> str:
    """Money as shown: to the cent for anything of a cent or more, else its first digits."""
    return cents(value) if abs(value) >= Decimal("0.01") or not value else plain(_significant(value))


def _significant(value: Decimal) -> Decimal:
    with localcontext(prec=8):
        return +value


def _percent(part: Decimal, whole: Decimal) -> float | None:
    if not whole:
        return None
    with localcontext(prec=PRECISION):
        return float(round(part / whole * 100, 2))
