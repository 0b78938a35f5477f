"""Alert rules as plain Python: when a rule holds, when an alert fires, and the rule in words.

The alert check (``app.alerting.alerts``) asks PostgreSQL for the candidate alerts and the reference
prices; everything about *whether* an alert fires lives here, testable without servers.

- ``above`` / ``below``: the price is at or above / at or below the threshold.
- ``change``: the price moved by at least ``change_percent`` % (up, down or either) against the
  reference price: the last stored price at or before ``window`` ago (or, with less history
  than that, the oldest one inside the window).
- ``cross``: the price crosses above / below SMA(n) or EMA(n) of ``timeframe`` candles (the
  forming candle's close is the tick's price). A new cross alert starts disarmed: it fires at a
  crossing, not because the price is already on that side, and once per crossing (it re-arms when
  the price is back on the other side).
- ``rsi``: RSI(n) of ``timeframe`` candles at or above / at or below ``level``.
- ``value``: the position in the symbol (its transactions, app/portfolio) is worth at or above /
  at or below ``threshold`` (in the symbol's currency); ``pnl``: its unrealised P&L in % of its
  cost is at or above / at or below ``change_percent`` (negative for a loss). The figure at each
  tick is ``Observation.reference``; with nothing held there is none, and the alert waits.
- ``total``: the portfolio's total value (app/portfolio/valuation.py) in the alert's ``currency``
  is at or above / at or below ``threshold``: the figure is ``Observation.reference``; while any
  position has no price or no rate to convert it there is none (a partial total would fire early).
- ``daily``: a summary of the portfolio, every day at ``daily_at`` in ``timezone``
  (app/alerting/portfolio_rules.py): no condition, no tick.
- The indicator values come from ``app.market.indicators`` (the chart's own), one per tick, as
  ``Observation.reference``.
- ``once`` alerts fire on the first tick that holds and are done. ``every_time`` alerts fire,
  disarm, re-arm when a tick no longer holds, and fire again on a tick that holds once armed and
  at least ``cooldown`` after the previous fire. At most one fire per alert per batch.
- Only ticks received after the alert was made count (a replayed old batch fires nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

MIN_WINDOW_SECONDS = 5 * 60
MAX_WINDOW_SECONDS = 7 * 24 * 3600
MIN_COOLDOWN_SECONDS = 60
MAX_COOLDOWN_SECONDS = 30 * 24 * 3600
DEFAULT_COOLDOWN_SECONDS = 300
MAX_CHANGE_PERCENT = Decimal(1000)
MAX_NOTE_LENGTH = 200
TIMEFRAME_WORDS = {"1m": "1-minute", "1h": "hourly", "1d": "daily"}  # the candles an indicator rule reads
HOLDING_RULES = ("value", "pnl")  # on a position: its worth, its P&L in %
FIGURE_RULES = ("cross", "rsi", "total", *HOLDING_RULES)  # judged on Observation.reference, not the price alone
MIN_PNL_PERCENT = Decimal(-100)  # a position loses at most all it cost
MAX_PNL_PERCENT = Decimal(100_000)


@dataclass(frozen=True)
class AlertState:
    """What the check needs to know of an active alert."""

    id: int
    version: int
    rule: str
    direction: str
    threshold: Decimal | None
    change_percent: Decimal | None
    window_seconds: int | None
    frequency: str
    cooldown_seconds: int
    armed: bool
    created_at: datetime
    triggered_at: datetime | None
    level: Decimal | None = None  # rsi


@dataclass(frozen=True)
class Observation:
    """One tick as one alert sees it; ``reference`` is the change rule's price ``window`` ago, or
    the indicator rule's value at this tick (SMA/EMA for cross, RSI for rsi)."""

    price: Decimal
    observed_at: datetime
    received_at: datetime
    reference: Decimal | None = None


@dataclass(frozen=True)
class Outcome:
    """What a batch does to an alert: the tick that fires it (if any) and whether it ends armed."""

    fire: Observation | None
    armed: bool


def change_percent(price: Decimal, reference: Decimal) -> Decimal:
    return (price - reference) / reference * 100


def holds(alert: AlertState, obs: Observation) -> bool:
    if alert.rule == "above":
        return obs.price >= alert.threshold  # type: ignore[operator]
    if alert.rule == "below":
        return obs.price <= alert.threshold  # type: ignore[operator]
    if obs.reference is None:
        return False  # no stored history to compare with yet (or too little for the indicator)
    if alert.rule in (*HOLDING_RULES, "total"):
        limit = alert.change_percent if alert.rule == "pnl" else alert.threshold
        return obs.reference >= limit if alert.direction == "above" else obs.reference <= limit  # type: ignore[operator]
    if alert.rule == "cross":
        return obs.price >= obs.reference if alert.direction == "above" else obs.price <= obs.reference
    if alert.rule == "rsi":
        return obs.reference >= alert.level if alert.direction == "above" else obs.reference <= alert.level  # type: ignore[operator]
    moved = change_percent(obs.price, obs.reference)
    limit = alert.change_percent
    return {"up": moved >= limit, "down": moved <= -limit, "either": abs(moved) >= limit}[alert.direction]  # type: ignore[operator]


def evaluate(alert: AlertState, observations: Iterable[Observation]) -> Outcome | None:
    """Run the alert over a batch's ticks of its symbol; None when its state does not change."""
    armed = alert.armed
    fire: Observation | None = None
    cooldown = timedelta(seconds=alert.cooldown_seconds)
    for obs in sorted(observations, key=lambda o: o.observed_at):
        if obs.received_at < alert.created_at:
            continue
        if obs.reference is None and alert.rule in FIGURE_RULES:
            continue  # too few candles for the indicator yet, or nothing held: neither side of it
        if not holds(alert, obs):
            armed = True
            continue
        cooled = alert.triggered_at is None or obs.received_at >= alert.triggered_at + cooldown
        if fire is None and armed and cooled:
            fire, armed = obs, False
            if alert.frequency == "once":
                break
    if fire is None and armed == alert.armed:
        return None
    return Outcome(fire, armed)


# --- in words -------------------------------------------------------------------------------


def format_price(price: Decimal | float, decimals: int | None = None) -> str:
    """Thousands separators; the symbol's ``decimals`` (its source's: a stock in cents), else by
    magnitude as the page shows crypto: 100,000.00, 0.153200."""
    value = Decimal(str(price))
    if decimals is None:
        decimals = 2 if abs(value) >= 1000 else 4 if abs(value) >= 1 else 6
    return f"{value:,.{decimals}f}"


def format_duration(seconds: int) -> str:
    """Days from two days up (24 h reads better than 1 d), then hours, minutes, seconds."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0 and (unit != "d" or seconds >= 2 * size):
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def format_percent(value: Decimal) -> str:
    return f"{value.normalize():f} %"


def describe_rule(
    rule: str,
    direction: str,
    threshold: Decimal | None,
    percent: Decimal | None,
    window: int | None,
    decimals: int | None = None,
) -> str:
    """The condition, as the page lists it: 'at or above 100,000.00', 'moves up 5 % within 1 h'."""
    if rule in ("above", "below"):
        return f"at or {rule} {format_price(threshold, decimals)}"  # type: ignore[arg-type]
    way = {"up": "up ", "down": "down ", "either": ""}[direction]
    either = " either way" if direction == "either" else ""
    return f"moves {way}{format_percent(percent)}{either} within {format_duration(window)}"  # type: ignore[arg-type]


def describe_indicator(alert: Any) -> str:
    """'SMA(20) of hourly candles', 'RSI(14) of daily candles'."""
    return f"{alert.indicator.upper()}({alert.period}) of {TIMEFRAME_WORDS[alert.timeframe]} candles"


def describe_alert(alert: Any, decimals: int | None = None) -> str:
    """An alert row's condition (model, result row or spec): ``describe_rule``'s words, and for
    the indicator rules 'crosses above SMA(20) of hourly candles', 'RSI(14) of daily candles at or above 70'."""
    if alert.rule == "cross":
        return f"crosses {alert.direction} {describe_indicator(alert)}"
    if alert.rule == "rsi":
        return f"{describe_indicator(alert)} at or {alert.direction} {alert.level.normalize():f}"
    if alert.rule == "value":
        return f"position worth at or {alert.direction} {format_price(alert.threshold, 2)}"
    if alert.rule == "pnl":
        return f"position P&L at or {alert.direction} {signed_percent(alert.change_percent)}"
    if alert.rule == "total":
        return f"portfolio worth at or {alert.direction} {format_price(alert.threshold, 2)} {alert.currency}"
    if alert.rule == "daily":
        return f"portfolio summary every day at {alert.daily_at:%H:%M} ({alert.timezone})"
    return describe_rule(
        alert.rule, alert.direction, alert.threshold, alert.change_percent, alert.window_seconds, decimals
    )


def describe_named(alert: Any, decimals: int | None = None) -> str:
    """The alert as its messages name it: 'BTC-USD at or above 100,000.00'; an alert on the whole
    portfolio has no symbol and its words say so: 'portfolio worth at or above 100,000.00 USD'."""
    rule = describe_alert(alert, decimals)
    return f"{alert.symbol} {rule}" if alert.symbol else rule


def describe_indicator_fire(alert: Any, value: Decimal, decimals: int | None = None) -> str:
    """What happened, for the message: 'crossed above SMA(20) of hourly candles (94,321.50)',
    'RSI(14) of daily candles reached 71.3 (at or above 70)'."""
    if alert.rule == "cross":
        return f"crossed {alert.direction} {describe_indicator(alert)} ({format_price(value, decimals)})"
    return f"{describe_indicator(alert)} reached {value:.1f} (at or {alert.direction} {alert.level.normalize():f})"


def signed_percent(value: Decimal) -> str:
    """+20 %, −7.5 %, 0 %."""
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return f"{sign}{format_percent(abs(value))}"


def describe_holding_fire(alert: Any, figure: Decimal) -> str:
    """What happened, for the message: 'position worth 50,123.40 (at or above 50,000.00)',
    'position P&L reached +21.30 % (at or above +20 %)', 'portfolio worth 101,250.00 USD (...)'."""
    if alert.rule == "total":
        worth, limit = format_price(figure, 2), format_price(alert.threshold, 2)
        return f"portfolio worth {worth} {alert.currency} (at or {alert.direction} {limit} {alert.currency})"
    if alert.rule == "value":
        return f"position worth {format_price(figure, 2)} (at or {alert.direction} {format_price(alert.threshold, 2)})"
    shown = figure.quantize(Decimal("0.01"))
    reached = f"{'+' if shown > 0 else '−' if shown < 0 else ''}{abs(shown)} %"
    return f"position P&L reached {reached} (at or {alert.direction} {signed_percent(alert.change_percent)})"


def describe_fire(
    rule: str,
    threshold: Decimal | None,
    window: int | None,
    price: Decimal,
    reference: Decimal | None,
    decimals: int | None = None,
) -> str:
    """What happened, for the message: 'rose above 100,000.00', 'fell 5.2 % in 1 h (from 0.160000)'."""
    if rule == "above":
        return f"rose above {format_price(threshold, decimals)}"  # type: ignore[arg-type]
    if rule == "below":
        return f"fell below {format_price(threshold, decimals)}"  # type: ignore[arg-type]
    moved = change_percent(price, reference)  # type: ignore[arg-type]
    verb = "rose" if moved >= 0 else "fell"
    return (
        f"{verb} {abs(moved):.2f} % in {format_duration(window)}"  # type: ignore[arg-type]
        f" (from {format_price(reference, decimals)})"  # type: ignore[arg-type]
    )
