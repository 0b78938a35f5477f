"""Alerts on the whole portfolio (no symbol): its total value (rule ``total``), checked with each
batch that moves one of its prices, and the daily summary (rule ``daily``), which the sweep sends
once its time of day has come.

- total: the portfolio valued as ``GET /api/portfolio`` values it (app/portfolio/valuation.py), in
  the alert's currency, with the batch's newest price of each symbol over the stored one. While a
  position has no price, or a currency no rate, there is no figure: a partial total would fire a
  ``below`` alert early. Batches of different symbols are checked at once by different workers: a
  change that loses the version race is not lost, the next batch sees the same total and makes it.
- daily: due when its latest time of day (``daily_at`` in ``timezone``, at or before now) is after
  its last summary (or its creation). A sweep that was down sends the missed day's summary once, late,
  with the figures as they are then; the text is kept with the event, so a retried delivery sends
  the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from app.alerting.holding_rules import CHECKED_NOW, STATE_COLUMNS
from app.alerting.rules import Observation, format_price, signed_percent
from app.extensions import db
from app.market.ticks import Tick
from app.portfolio.transactions import all_trades
from app.portfolio.valuation import portfolio

_ACTIVE = text(
    f"SELECT {STATE_COLUMNS}, a.currency, a.daily_at, a.timezone FROM alerts a "  # noqa: S608 - constants
    f"WHERE a.status = 'active' AND a.symbol IS NULL AND a.rule = :rule AND {CHECKED_NOW}"
)


def totals(ticks: Sequence[Tick], now: datetime) -> list[tuple[Any, Observation]]:
    """Each active total alert with the portfolio's worth after the batch, in its currency: only
    when the batch has a price of a position or of a rate the total reads (else nothing moved)."""
    rows = db.session.execute(_ACTIVE, {"rule": "total"}).all()
    if not rows:
        return []
    newer: dict[str, tuple[Decimal, datetime]] = {}
    for t in ticks:
        if t.symbol not in newer or t.observed_at > newer[t.symbol][1]:
            newer[t.symbol] = (t.price, t.observed_at)
    trades = all_trades()
    observed = max(t.observed_at for t in ticks)
    received = max(t.received_at for t in ticks)
    figures: dict[str, Decimal | None] = {}
    for currency in {row.currency for row in rows}:
        valued = portfolio(trades, currency, now, newer)
        read = {p["symbol"] for p in valued["positions"] if Decimal(p["quantity"])}
        read |= {rate["symbol"] for rate in valued["rates"].values()}
        if not read & newer.keys():
            continue
        figures[currency] = total_of(valued)
    return [
        (row, Observation(figure, observed, received, figure))
        for row in rows
        if row.currency in figures and (figure := figures[row.currency]) is not None
    ]


def total_of(valued: dict[str, Any]) -> Decimal | None:
    """The portfolio's total value, None while a position has no price or a currency no rate."""
    if valued["missing_rates"] or any(p["value"] is None for p in valued["positions"] if Decimal(p["quantity"])):
        return None
    return Decimal(valued["totals"]["value"])


def last_due(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The latest moment at or before ``now`` that is ``at`` o'clock in ``zone``, in UTC (a local
    time the clocks skip is read with the offset before the change: 02:30 is 03:30 summer time)."""
    today = now.astimezone(zone).date()
    moment = datetime.combine(today, at, zone).astimezone(UTC)
    return moment if moment <= now else datetime.combine(today - timedelta(days=1), at, zone).astimezone(UTC)


def due_summaries(now: datetime, base: str) -> list[tuple[Any, Observation, str]]:
    """Each daily summary whose time has come since its last one: the alert, the observation it
    fires with (the moment it was due; the total as its price) and the summary's text."""
    due = []
    for row in db.session.execute(_ACTIVE, {"rule": "daily"}).all():
        moment = last_due(now, row.daily_at, ZoneInfo(row.timezone))
        if moment > (row.triggered_at or row.created_at):
            due.append((row, moment))
    if not due:
        return []
    valued = portfolio(all_trades(), base, now)
    worth = Decimal(valued["totals"]["value"])
    return [
        (row, Observation(worth, moment, now, worth), summary_text(valued, moment.astimezone(ZoneInfo(row.timezone))))
        for row, moment in due
    ]


def summary_text(valued: dict[str, Any], when: datetime) -> str:
    """The portfolio in a few lines: the total, the day, the P&L, then each open position."""
    base, figures = valued["base_currency"], valued["totals"]
    day = figures["day_change_percent"]
    lines = [
        f"Portfolio on {when:%Y-%m-%d %H:%M %Z}: {_money(figures['value'])} {base}",
        f"Day: {_signed_money(figures['day_change'])} {base}"
        + (f" ({signed_percent(Decimal(str(day)))})" if day is not None else "")
        + f"; total P&L: {_signed_money(figures['total_pnl'])} {base}",
    ]
    held = [p for p in valued["positions"] if Decimal(p["quantity"])]
    for p in held:
        if p["value"] is None:
            lines.append(f"{p['symbol']}: {p['quantity']}, no price yet")
            continue
        parts = [f"{p['symbol']}: {p['quantity']} worth {_money(p['value'])} {p['currency']}"]
        if p["day_change_percent"] is not None:
            parts.append(f"day {signed_percent(Decimal(str(p['day_change_percent'])))}")
        if p["unrealised_percent"] is not None:
            parts.append(f"P&L {signed_percent(Decimal(str(p['unrealised_percent'])))}")
        lines.append(", ".join(parts))
    if not held:
        lines.append("Nothing held.")
    if valued["missing_rates"]:
        lines.append(f"Not in the total (no rate to {base} yet): {', '.join(valued['missing_rates'])}")
    return "\n".join(lines)


def _money(value: str) -> str:
    return format_price(Decimal(value), 2)


def _signed_money(value: str) -> str:
    amount = Decimal(value)
    return f"{'+' if amount > 0 else '−' if amount < 0 else ''}{format_price(abs(amount), 2)}"
