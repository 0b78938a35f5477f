"""Technical indicators over a series of bucket closes: one implementation for the chart and the
alert rules.

Each function takes the closes oldest first and returns one value per close, ``None`` while the
indicator is still warming up (fewer closes than it needs). The definitions are the usual ones:

- SMA(n): the mean of the last n closes.
- EMA(n): weight 2/(n+1), seeded with the SMA of the first n closes (as TA-Lib does), so its
  first value is at index n-1.
- Bollinger(n, k): SMA(n) and k population standard deviations either side (Bollinger's own
  definition divides by n).
- RSI(n): Wilder's: the first average gain and loss are the means of the first n changes, then
  each is smoothed as avg = (avg*(n-1) + x)/n; RSI = 100 - 100/(1 + gain/loss), 100 where
  nothing fell (50 where nothing moved). Its first value is at index n.

EMA and RSI remember their whole past; a caller that shows a window computes them over
``lookback(spec)`` extra buckets before it, which brings them within 1e-8 of the infinite past.

``extend(spec, closes)`` is the same value one close further, for a close not known yet: the alert
check asks it for every tick of a batch (the forming bucket's close is the tick's price), at O(1)
a tick after one pass over the finished buckets; and for the close where a rule's comparison
turns (the price equals its average, RSI a level), the bands of the check's gate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

Series = list[float | None]
KINDS = ("sma", "ema", "bb", "rsi")
MIN_PERIOD, MAX_PERIOD = 2, 500
MAX_INDICATORS = 8
BB_WIDTHS = (0.1, 10.0)
MEMORY = 10  # EMA and RSI: lookback in periods; (1-2/(n+1))^(10n) < e^-19


_ITEM = r"(?:(?:sma|ema|rsi):[0-9]{1,6}|bb:[0-9]{1,6}:[0-9]{1,6}(?:\.[0-9]{1,6})?)"
ITEM = re.compile(_ITEM)
PATTERN = f"^{_ITEM}(?:,{_ITEM})*$"  # the documented form of a list of specs


class SpecError(ValueError):
    """Specs not of the documented form; the message names the one at fault."""


class OutOfRange(SpecError):
    """Specs of the form whose numbers cannot be used (a period of 1, nine indicators)."""


@dataclass(frozen=True)
class Spec:
    kind: str  # sma, ema, bb or rsi
    period: int
    width: float | None = None  # bb: standard deviations either side

    @property
    def key(self) -> str:
        """The spec as written in a request (``bb:20:2``), the answer's key for its series."""
        if self.width is None:
            return f"{self.kind}:{self.period}"
        return f"{self.kind}:{self.period}:{self.width:g}"


def parse_specs(raw: str | None) -> list[Spec]:
    """``sma:20,ema:50,bb:20:2,rsi:14`` -> specs, in the order given, each once."""
    if raw is None:
        return []
    specs: list[Spec] = []
    for text in raw.split(","):
        spec = parse_spec(text)
        if spec not in specs:
            specs.append(spec)
    if len(specs) > MAX_INDICATORS:
        raise OutOfRange(f"at most {MAX_INDICATORS} indicators at a time, got {len(specs)}")
    return specs


def parse_spec(text: str) -> Spec:
    if not ITEM.fullmatch(text):
        raise SpecError(f"{text!r} is not one of sma:<period>, ema:<period>, bb:<period>:<width>, rsi:<period>")
    kind, period, *width = text.split(":")
    if not MIN_PERIOD <= int(period) <= MAX_PERIOD:
        raise OutOfRange(f"{text!r}: the period must be from {MIN_PERIOD} to {MAX_PERIOD}")
    if not width:
        return Spec(kind, int(period))
    if not BB_WIDTHS[0] <= float(width[0]) <= BB_WIDTHS[1]:
        raise OutOfRange(f"{text!r}: the width must be from {BB_WIDTHS[0]:g} to {BB_WIDTHS[1]:g} standard deviations")
    return Spec(kind, int(period), float(width[0]))


def lookback(spec: Spec) -> int:
    """Buckets before a window that its first bucket's value depends on (in practice, for EMA/RSI)."""
    return spec.period * MEMORY if spec.kind in ("ema", "rsi") else spec.period - 1


def sma(closes: Sequence[float], period: int) -> Series:
    out: Series = [None] * len(closes)
    total = 0.0
    for i, close in enumerate(closes):
        total += close
        if i >= period:
            total -= closes[i - period]
        if i >= period - 1:
            out[i] = total / period
    return out


def ema(closes: Sequence[float], period: int) -> Series:
    out: Series = [None] * len(closes)
    if len(closes) < period:
        return out
    alpha = 2 / (period + 1)
    value = sum(closes[:period]) / period
    out[period - 1] = value
    for i in range(period, len(closes)):
        value += alpha * (closes[i] - value)
        out[i] = value
    return out


def bollinger(closes: Sequence[float], period: int, width: float) -> dict[str, Series]:
    middle = sma(closes, period)
    upper: Series = [None] * len(closes)
    lower: Series = [None] * len(closes)
    for i, mean in enumerate(middle):
        if mean is None:
            continue
        window = closes[i - period + 1 : i + 1]
        spread = width * math.sqrt(sum((c - mean) ** 2 for c in window) / period)
        upper[i], lower[i] = mean + spread, mean - spread
    return {"middle": middle, "upper": upper, "lower": lower}


def rsi(closes: Sequence[float], period: int) -> Series:
    out: Series = [None] * len(closes)
    if len(closes) <= period:
        return out
    changes = [b - a for a, b in zip(closes, closes[1:], strict=False)]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    out[period] = _rsi_of(gain, loss)
    for i in range(period, len(changes)):
        gain = (gain * (period - 1) + max(changes[i], 0.0)) / period
        loss = (loss * (period - 1) + max(-changes[i], 0.0)) / period
        out[i + 1] = _rsi_of(gain, loss)
    return out


def _rsi_of(gain: float, loss: float) -> float:
    if loss == 0:
        return 50.0 if gain == 0 else 100.0
    return 100 - 100 / (1 + gain / loss)


def compute(spec: Spec, closes: Sequence[float]) -> Series | dict[str, Series]:
    """The spec's series over ``closes``: a list, or for Bollinger bands middle/upper/lower."""
    if spec.kind == "sma":
        return sma(closes, spec.period)
    if spec.kind == "ema":
        return ema(closes, spec.period)
    if spec.kind == "rsi":
        return rsi(closes, spec.period)
    return bollinger(closes, spec.period, spec.width or 2.0)


class Next(Protocol):
    """An indicator one close further (``extend``): its value at a close not known yet, and the
    close where the alert rules' comparison turns (``turn``)."""

    def __call__(self, close: float) -> float | None: ...

    def turn(self, level: float) -> float | None:
        """The close where an average equals the close itself, or RSI equals ``level``: below it
        the close is under the average (RSI under the level), above it over (both non-decreasing in
        the close). None while there is no value."""
        ...


@dataclass(frozen=True)
class _Mean:
    """SMA, and EMA's first value (its seed): ``(total + close) / n``."""

    total: float
    n: int

    def __call__(self, close: float) -> float:
        return (self.total + close) / self.n

    def turn(self, level: float) -> float:
        return self.total / (self.n - 1)  # close = (total + close) / n


@dataclass(frozen=True)
class _Smoothed:
    """EMA after its seed: ``before + alpha * (close - before)``."""

    before: float
    alpha: float

    def __call__(self, close: float) -> float:
        return self.before + self.alpha * (close - self.before)

    def turn(self, level: float) -> float:
        return self.before  # the close equals the average where it equals the average before


@dataclass(frozen=True)
class _Strength:
    """RSI: Wilder's averages one change further. ``gain`` / ``loss``: the past's part of the next
    average times n (the sum of the first changes, or the average so far times n-1)."""

    gain: float
    loss: float
    last: float
    n: int

    def __call__(self, close: float) -> float:
        return _rsi_of(
            (self.gain + max(close - self.last, 0.0)) / self.n, (self.loss + max(self.last - close, 0.0)) / self.n
        )

    def turn(self, level: float) -> float:
        ratio = level / (100 - level)  # gain / loss where RSI = level
        rise = ratio * self.loss - self.gain  # above the last close: (gain + rise) / loss = ratio
        if rise >= 0:
            return self.last + rise
        return self.last - (self.gain / ratio - self.loss)  # below it: gain / (loss + fall) = ratio


@dataclass(frozen=True)
class _Unknown:
    """Too few closes for a value."""

    def __call__(self, close: float) -> None:
        return None

    def turn(self, level: float) -> None:
        return None


def extend(spec: Spec, closes: Sequence[float]) -> Next:
    """The spec's value one close further after ``closes`` (SMA, EMA, RSI): what
    ``compute(spec, [*closes, close])[-1]`` gives, without going over ``closes`` again."""
    n, count = spec.period, len(closes)
    if spec.kind == "sma":
        if count < n - 1:
            return _Unknown()
        return _Mean(sum(closes[count - (n - 1) :]), n)
    if spec.kind == "ema":
        if count < n - 1:
            return _Unknown()
        if count == n - 1:
            return _Mean(sum(closes), n)
        before: float = ema(closes, n)[-1]  # type: ignore[assignment] - n closes or more: a value
        return _Smoothed(before, 2 / (n + 1))
    if spec.kind == "rsi":
        if count < n:
            return _Unknown()
        changes = [b - a for a, b in zip(closes, closes[1:], strict=False)]
        if count == n:  # the next change is the n-th: the first averages are plain means
            return _Strength(sum(max(c, 0.0) for c in changes), sum(max(-c, 0.0) for c in changes), closes[-1], n)
        gain = sum(max(c, 0.0) for c in changes[:n]) / n
        loss = sum(max(-c, 0.0) for c in changes[:n]) / n
        for change in changes[n:]:  # rsi()'s smoothing, without its max() calls: the alert check's hot loop
            if change > 0:
                gain, loss = (gain * (n - 1) + change) / n, loss * (n - 1) / n
            else:
                gain, loss = gain * (n - 1) / n, (loss * (n - 1) - change) / n
        return _Strength(gain * (n - 1), loss * (n - 1), closes[-1], n)
    raise SpecError(f"{spec.key}: an alert compares with SMA, EMA or RSI")
