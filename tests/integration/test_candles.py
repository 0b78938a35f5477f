"""Candles against their raw ticks: whatever the batches, repeats and order, every 1-minute, 1-hour
and 1-day candle equals what its bucket's stored ticks give (computed here in Python, not SQL)."""

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.extensions import db
from app.market.candles import rebuild
from app.market.prices import store_ticks
from app.market.ticks import Tick

BASE = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # two hours either side of midnight: two day partitions
SYMBOLS = ("BTC-USD", "ETH-USD")
RECEIVED = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)

ticks_strategy = st.builds(
    lambda symbol, second, price, source, volume: Tick(
        symbol, price, BASE + timedelta(seconds=second), RECEIVED, source, volume
    ),
    st.sampled_from(SYMBOLS),
    st.integers(min_value=-3600, max_value=7200),
    st.sampled_from([Decimal("100"), Decimal("101.5"), Decimal("99.25"), Decimal("250"), Decimal("0.000123")]),
    st.sampled_from(["simulated", "yfinance"]),  # same instant from two sources: ties to break
    st.sampled_from([None, Decimal("0"), Decimal("0.5"), Decimal("1200")]),  # a source may give no volume
)
batches_strategy = st.lists(
    st.tuples(st.lists(ticks_strategy, min_size=1, max_size=40), st.booleans()), min_size=1, max_size=6
)


def expected_candles(size: timedelta) -> dict[tuple, tuple]:
    """From the stored raw ticks: open = smallest (observed_at, price), close = largest."""
    rows = db.session.execute(text("SELECT symbol, price, observed_at, volume FROM ticks")).all()
    buckets: dict[tuple, list] = defaultdict(list)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    for symbol, price, observed, volume in rows:
        buckets[(symbol, epoch + (observed - epoch) // size * size)].append((observed, price, volume or 0))
    result = {}
    for key, ticks in buckets.items():
        ticks.sort()
        prices = [p for _, p, _ in ticks]
        traded = sum(v for _, _, v in ticks)
        result[key] = (
            ticks[0][1],
            max(prices),
            min(prices),
            ticks[-1][1],
            ticks[0][0],
            ticks[-1][0],
            len(ticks),
            traded,
        )
    return result


def stored_candles(table: str) -> dict[tuple, tuple]:
    rows = db.session.execute(
        text(f"SELECT symbol, bucket, open, high, low, close, first_at, last_at, ticks, volume FROM {table}")  # noqa: S608
    ).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def assert_candles_match() -> None:
    minute = expected_candles(timedelta(minutes=1))
    hour = expected_candles(timedelta(hours=1))
    assert minute and stored_candles("candles_1m") == minute
    assert stored_candles("candles_1h") == hour
    assert stored_candles("candles_1d") == expected_candles(timedelta(days=1))


def empty() -> None:
    db.session.execute(text("TRUNCATE ticks, candles_1m, candles_1h, candles_1d"))
    db.session.commit()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches_strategy)
def test_every_candle_equals_its_raw_ticks(ctx, batches):
    empty()
    for batch, redelivered in batches:
        store_ticks(batch)
        if redelivered:  # the same batch again (a Kafka replay): no tick stored, no candle changed
            assert store_ticks(batch) == []
    assert_candles_match()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# One tick per key: with two prices for one (symbol, instant, source) the first stored wins, so the
# order would change what is stored, not just how it is merged.
@given(batch=st.lists(ticks_strategy, min_size=2, max_size=60, unique_by=lambda t: (t.symbol, t.observed_at, t.source)))
def test_arrival_order_does_not_change_a_candle(ctx, batch):
    empty()
    for tick in reversed(batch):  # newest first, one by one: every open and close is taken over late
        store_ticks([tick])
    by_one = stored_candles("candles_1m"), stored_candles("candles_1h")
    empty()
    store_ticks(batch)
    assert (stored_candles("candles_1m"), stored_candles("candles_1h")) == by_one
    assert_candles_match()


def test_late_tick_lands_in_its_bucket_and_takes_over_the_open(ctx):
    t = BASE + timedelta(seconds=30)
    store_ticks([Tick("BTC-USD", Decimal("100"), t, RECEIVED, "simulated")])
    store_ticks([Tick("BTC-USD", Decimal("105"), t + timedelta(seconds=20), RECEIVED, "simulated")])
    store_ticks([Tick("BTC-USD", Decimal("90"), t - timedelta(seconds=25), RECEIVED, "simulated")])  # late
    (candle,) = stored_candles("candles_1m").items()
    assert candle == (
        ("BTC-USD", BASE),
        (Decimal("90"), Decimal("105"), Decimal("90"), Decimal("105"), t - timedelta(seconds=25),
         t + timedelta(seconds=20), 3, 0),
    )  # fmt: skip


def test_concurrent_batches_on_the_same_candles_neither_deadlock_nor_lose_a_tick(app):
    batches = [
        [Tick(s, Decimal(100 + n + i), BASE + timedelta(seconds=7 * i + n), RECEIVED, "simulated")
         for i in range(200) for s in (SYMBOLS if n % 2 else SYMBOLS[::-1])]
        for n in range(6)
    ]  # fmt: skip
    errors: list[Exception] = []

    def store(batch: list[Tick]) -> None:
        with app.app_context():
            try:
                store_ticks(batch)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=store, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(text("SELECT sum(ticks) FROM candles_1h")) == 6 * 200 * 2
        assert_candles_match()


def test_rebuild_recomputes_candles_from_raw_ticks(ctx):
    ticks = [Tick(s, Decimal(100 + i % 7), BASE + timedelta(seconds=13 * i), RECEIVED, "simulated")
             for i in range(600) for s in SYMBOLS]  # fmt: skip
    store_ticks(ticks, candles=False)  # a bulk import without candles
    assert stored_candles("candles_1m") == {}
    assert rebuild() == 2 * 2  # two symbols, two days each
    assert_candles_match()
    db.session.execute(text("UPDATE candles_1m SET high = 1 WHERE symbol = 'ETH-USD'"))
    db.session.commit()
    assert rebuild(symbol="ETH-USD", since=BASE + timedelta(hours=1)) == 1  # the second day only
    broken = {k for k, v in stored_candles("candles_1m").items() if v[1] == 1}
    assert broken and all(bucket < BASE + timedelta(hours=1) for _, bucket in broken)
    assert rebuild(symbol="ETH-USD") == 2
    assert_candles_match()


def test_the_rebuild_command_names_bad_options_and_reports_what_it_did(app, ctx):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["rollups", "rebuild", "--since", "last tuesday"])
    assert bad.exit_code == 2
    assert "--since must be an ISO 8601 time with a timezone, like 2027-01-31T18:00:00Z" in bad.output
    unknown = runner.invoke(args=["rollups", "rebuild", "--symbol", "NOPE-USD"])
    assert unknown.exit_code == 2 and "--symbol NOPE-USD is not a known symbol" in unknown.output
    store_ticks([Tick("BTC-USD", Decimal("100"), BASE, RECEIVED, "simulated")], candles=False)
    done = runner.invoke(args=["rollups", "rebuild", "--symbol", "btc-usd", "--since", "2026-03-01T00:00Z"])
    assert done.exit_code == 0 and "rebuilt candles for 1 symbol-days" in done.output
    assert stored_candles("candles_1m") == {("BTC-USD", BASE): (Decimal("100"),) * 4 + (BASE, BASE, 1, 0)}
