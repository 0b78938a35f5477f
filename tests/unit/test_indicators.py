"""Indicators against references: pandas' rolling windows and exponential weighting, and Wilder's
worked RSI example."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.market import indicators
from app.market.indicators import OutOfRange, Spec, SpecError

# Wilder's RSI example (New Concepts in Technical Trading Systems, 1978), as StockCharts reprints it.
WILDER = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28,
          46.00, 46.03, 46.41, 46.22, 45.64]  # fmt: skip

closes_strategy = st.lists(
    st.floats(min_value=0.0001, max_value=1e6, allow_nan=False, allow_infinity=False), min_size=0, max_size=120
)


def values(series: pd.Series) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in series]


def assert_close(ours: list[float | None], reference: list[float | None], scale: float = 1.0) -> None:
    """Equal to 1e-9, relative to the value or to ``scale`` (the inputs' size: a band near 1 from
    closes near 1e6 is a difference of large numbers, and carries their rounding)."""
    assert len(ours) == len(reference)
    for index, (mine, theirs) in enumerate(zip(ours, reference, strict=True)):
        assert (mine is None) == (theirs is None), f"warm-up differs at {index}: {mine} vs {theirs}"
        if mine is not None:
            assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-9 * max(scale, 1.0)), f"bucket {index}"


def seeded_ewm(closes: list[float], period: int, alpha: float) -> list[float | None]:
    """pandas' recursive weighting (adjust=False) from a seed of the first ``period`` values' mean."""
    if len(closes) < period:
        return [None] * len(closes)
    seeded = pd.Series([sum(closes[:period]) / period, *closes[period:]])
    return [None] * (period - 1) + values(seeded.ewm(alpha=alpha, adjust=False).mean())


@given(closes_strategy, st.integers(2, 30))
def test_sma_is_pandas_rolling_mean(closes: list[float], period: int):
    assert_close(indicators.sma(closes, period), values(pd.Series(closes, dtype=float).rolling(period).mean()))


@given(closes_strategy, st.integers(2, 30))
def test_ema_is_pandas_ewm_seeded_with_the_first_sma(closes: list[float], period: int):
    assert_close(indicators.ema(closes, period), seeded_ewm(closes, period, 2 / (period + 1)))


@given(closes_strategy, st.integers(2, 30), st.sampled_from([1.0, 2.0, 2.5]))
def test_bollinger_is_rolling_mean_and_population_deviation(closes: list[float], period: int, width: float):
    series = pd.Series(closes, dtype=float)
    mean = series.rolling(period).mean()
    deviation = series.rolling(period).std(ddof=0)
    bands = indicators.bollinger(closes, period, width)
    scale = max(closes, default=1.0)
    assert_close(bands["middle"], values(mean), scale)
    assert_close(bands["upper"], values(mean + width * deviation), scale)
    assert_close(bands["lower"], values(mean - width * deviation), scale)


@given(closes_strategy, st.integers(2, 30))
def test_rsi_is_wilders_smoothing(closes: list[float], period: int):
    changes = [b - a for a, b in zip(closes, closes[1:], strict=False)]
    gains = seeded_ewm([max(c, 0.0) for c in changes], period, 1 / period)
    losses = seeded_ewm([max(-c, 0.0) for c in changes], period, 1 / period)
    reference: list[float | None] = [None]  # no change before the first close
    for gain, loss in zip(gains, losses, strict=True):
        if gain is None or loss is None:
            reference.append(None)
        elif loss == 0:
            reference.append(50.0 if gain == 0 else 100.0)
        else:
            reference.append(100 - 100 / (1 + gain / loss))
    assert_close(indicators.rsi(closes, period), reference[: len(closes)])


def test_rsi_on_wilders_worked_example():
    rsi = indicators.rsi(WILDER, 14)
    assert rsi[:14] == [None] * 14
    # The first 14 changes gain 3.34 and lose 1.40 in all: 100 - 100 / (1 + 3.34 / 1.40).
    # (StockCharts prints 70.53, from averages it rounded to two places.)
    assert rsi[14] == pytest.approx(70.4641, abs=1e-4)
    # 46.00, a 0.28 loss: gain 3.34/14 * 13/14, loss (1.40/14 * 13 + 0.28)/14 (StockCharts: 66.32).
    assert rsi[15] == pytest.approx(100 - 100 / (1 + (3.34 * 13 / 14) / (1.40 * 13 / 14 + 0.28)), abs=1e-9)
    assert rsi[15] == pytest.approx(66.2496, abs=1e-4)
    assert rsi[19] == pytest.approx(57.97, abs=0.1)  # StockCharts' figure, within its rounding


def test_flat_and_one_sided_series():
    assert indicators.rsi([5.0] * 6, 3)[3:] == [50.0, 50.0, 50.0]
    assert indicators.rsi([1.0, 2, 3, 4, 5, 6], 3)[5] == 100.0
    assert indicators.rsi([6.0, 5, 4, 3, 2, 1], 3)[5] == 0.0
    assert indicators.ema([1.0, 2, 3, 4, 5], 3) == [None, None, 2.0, 3.0, 4.0]
    bands = indicators.bollinger([7.0] * 4, 2, 2.0)
    assert bands["upper"][1:] == bands["lower"][1:] == [7.0, 7.0, 7.0]


def test_lookback_covers_what_the_first_shown_value_depends_on():
    assert indicators.lookback(Spec("sma", 20)) == 19
    assert indicators.lookback(Spec("bb", 20, 2.0)) == 19
    # EMA and RSI: within 1e-8 of the infinite past after lookback buckets.
    period = 50
    start = indicators.lookback(Spec("ema", period))
    series = [100 + 30 * math.sin(i / 7) for i in range(3 * start)]
    full = indicators.ema(series, period)[-1]
    cut = indicators.ema(series[-start - 1 :], period)[-1]
    assert full is not None and cut is not None and abs(full - cut) < 1e-8 * full


def test_specs_are_read_in_order_once_each():
    specs = indicators.parse_specs("sma:20,ema:50,bb:20:2,rsi:14,sma:20")
    assert [s.key for s in specs] == ["sma:20", "ema:50", "bb:20:2", "rsi:14"]
    assert indicators.parse_specs("bb:10:2.5")[0] == Spec("bb", 10, 2.5)
    assert indicators.parse_specs(None) == []


FORM = "is not one of sma:<period>, ema:<period>, bb:<period>:<width>, rsi:<period>"


@pytest.mark.parametrize(
    ("raw", "refusal", "message"),
    [
        ("macd:12", SpecError, f"'macd:12' {FORM}"),
        ("sma", SpecError, f"'sma' {FORM}"),
        ("sma:20:2", SpecError, f"'sma:20:2' {FORM}"),
        ("bb:20", SpecError, f"'bb:20' {FORM}"),
        ("sma:-3", SpecError, f"'sma:-3' {FORM}"),
        ("SMA:20", SpecError, f"'SMA:20' {FORM}"),
        ("sma:20, ema:5", SpecError, f"' ema:5' {FORM}"),
        ("", SpecError, f"'' {FORM}"),
        ("bb:20:nan", SpecError, f"'bb:20:nan' {FORM}"),
        ("ema:1", OutOfRange, "'ema:1': the period must be from 2 to 500"),
        ("rsi:501", OutOfRange, "'rsi:501': the period must be from 2 to 500"),
        ("bb:20:11", OutOfRange, "'bb:20:11': the width must be from 0.1 to 10 standard deviations"),
        (",".join(f"sma:{n}" for n in range(2, 11)), OutOfRange, "at most 8 indicators at a time, got 9"),
    ],
)
def test_bad_specs_are_refused_by_name(raw: str, refusal: type[SpecError], message: str):
    with pytest.raises(SpecError) as refused:
        indicators.parse_specs(raw)
    assert (type(refused.value), str(refused.value)) == (refusal, message)


@given(st.text(alphabet="smaebrito:,.0123456789", max_size=30))
def test_the_parser_and_the_documented_pattern_agree_on_the_form(raw: str):
    documented = re.fullmatch(indicators.PATTERN, raw) is not None
    try:
        indicators.parse_specs(raw)
        form = True
    except OutOfRange:
        form = True
    except SpecError:
        form = False
    assert form == documented


@given(
    kind=st.sampled_from(["sma", "ema", "rsi"]),
    period=st.integers(2, 30),
    closes=st.lists(st.floats(1, 1e6, allow_nan=False), max_size=120),
    close=st.floats(1, 1e6, allow_nan=False),
)
def test_extend_gives_the_series_next_value(kind, period, closes, close):
    """The alert check's one-more-close value is the chart's series' last value."""
    spec = Spec(kind, period)
    expected = indicators.compute(spec, [*closes, close])[-1]
    got = indicators.extend(spec, closes)(close)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_extend_knows_no_bollinger_bands():
    with pytest.raises(SpecError, match="SMA, EMA or RSI"):
        indicators.extend(Spec("bb", 20, 2.0), [1.0] * 30)


@given(
    kind=st.sampled_from(["sma", "ema", "rsi"]),
    period=st.integers(2, 30),
    closes=st.lists(st.floats(1, 1e4, allow_nan=False), min_size=1, max_size=120),
    level=st.floats(0.5, 99.5),
)
def test_the_turn_is_where_the_comparison_changes_sides(kind, period, closes, level):
    """Just above the turn, the close is over its average (RSI over the level); just below, under:
    the gate of the alert check passes prices by on the strength of it."""
    spec = Spec(kind, period)
    following = indicators.extend(spec, closes)
    turn = following.turn(level)
    if following(closes[-1]) is None:
        assert turn is None
        return
    assert turn is not None

    def side(close: float) -> float:  # > 0: the above side, < 0: the below side
        value = following(close)
        return value - level if kind == "rsi" else close - value

    assert side(turn + max(abs(turn), 1.0) * 1e-6) >= -1e-9
    if turn > 0:  # a level RSI keeps above at any price has its turn at or below 0
        assert side(turn - max(abs(turn), 1.0) * 1e-6) <= 1e-9


def test_the_turns_are_the_known_closes():
    # SMA(3) after 1, 2: the close equal to (3 + close) / 3 is 1.5
    assert indicators.extend(Spec("sma", 3), [1.0, 2.0]).turn(50) == 1.5
    # EMA(2) after 1, 2, 4: seeded with 1.5, then 1.5 + 2/3 * (4 - 1.5); a close equal to that stays it
    assert indicators.extend(Spec("ema", 2), [1.0, 2.0, 4.0]).turn(50) == pytest.approx(1.5 + 2 / 3 * 2.5)
    # RSI(2) after 10, 11 (gain 1, no loss yet): 50 where a fall of 1 balances the rise of 1
    strength = indicators.extend(Spec("rsi", 2), [10.0, 11.0])
    assert strength.turn(50) == 10.0
    assert strength(10.0) == 50.0
    # 75 = gain / loss of 3: all rises so far, so the fall that makes it is a third of the rise
    assert strength.turn(75) == pytest.approx(11 - 1 / 3)
    # after 11, 10 (a loss of 1): a rise of 3 above 10 makes gain / loss 3, RSI 75
    falling = indicators.extend(Spec("rsi", 2), [11.0, 10.0])
    assert (falling.turn(50), falling.turn(75)) == (11.0, 13.0)
    assert (falling(11.0), falling(13.0)) == (50.0, 75.0)
    assert indicators.extend(Spec("rsi", 2), [10.0]).turn(50) is None
