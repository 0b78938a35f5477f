"""The history backfill on the real PostgreSQL and Redis: the merge rule against a reference
computed here in Python, a whole simulated backfill through the task, and a backfill process
killed -9 mid-way that resumes without counting a bar twice."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.extensions import db
from app.market import backfill
from app.market.backfill_plan import Chunk, chunks, segments
from app.market.prices import store_ticks
from app.market.sources import Bar, Known
from app.market.sources.simulated import SimulatedSource, kind
from app.market.sources.simulated_past import past
from app.market.ticks import Tick
from app.models import Backfill
from devstack.processes import Stack, stack_env
from devstack.run import procfile_commands
from devstack.servers import wait_until
from tasks.backfill import backfill_step

UNTIL = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # a slice edge half an hour into a UTC day
RECEIVED = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
TABLES = {"candles_1m": timedelta(minutes=1), "candles_1h": timedelta(hours=1), "candles_1d": timedelta(days=1)}
PRICES = [Decimal("100"), Decimal("101.5"), Decimal("99.25"), Decimal("250")]

minute_bar = st.builds(
    lambda minute, o, h, c, volume: (minute, o, h, c, volume),
    st.integers(min_value=1, max_value=150),  # minutes before UNTIL
    st.sampled_from(PRICES),
    st.sampled_from(PRICES),
    st.sampled_from(PRICES),
    st.sampled_from([Decimal("0"), Decimal("7"), Decimal("1000.5")]),
)
live_tick = st.builds(
    lambda second, price, volume: Tick(
        "BTC-USD", price, UNTIL + timedelta(seconds=second), RECEIVED, "simulated", volume
    ),
    st.integers(min_value=0, max_value=9000),
    st.sampled_from(PRICES),
    st.sampled_from([None, Decimal("2"), Decimal("0.25")]),
)


def as_bar(minute: int, o: Decimal, h: Decimal, c: Decimal, volume: Decimal) -> Bar:
    start = UNTIL - timedelta(minutes=minute)
    return Bar(start, start + timedelta(minutes=1), o, max(o, h, c), min(o, h, c), c, volume)


def expected(bars: list[Bar], ticks: list[Tick]) -> dict[str, dict]:
    """Every table's candles from the bars and ticks, in Python: a bar is its open at its start and
    its close just before its stop; the open is the earliest such price, the close the latest."""
    events = [(b.start, b.open, b.high, b.low, b.stop - timedelta(microseconds=1), b.close, 0, b.volume) for b in bars]
    events += [(t.observed_at, t.price, t.price, t.price, t.observed_at, t.price, 1, t.volume or 0) for t in ticks]
    result = {}
    for table, size in TABLES.items():
        buckets: dict[datetime, list] = defaultdict(list)
        for event in events:
            buckets[EPOCH + (event[0] - EPOCH) // size * size].append(event)
        result[table] = {
            bucket: (
                min((e[0], e[1]) for e in group)[1], max(e[2] for e in group), min(e[3] for e in group),
                max((e[4], e[5]) for e in group)[1], min(e[0] for e in group), max(e[4] for e in group),
                sum(e[6] for e in group), sum(e[7] for e in group),
            )
            for bucket, group in buckets.items()
        }  # fmt: skip
    return result


def stored(table: str, symbol: str = "BTC-USD") -> dict:
    rows = db.session.execute(
        text(f"SELECT bucket, open, high, low, close, first_at, last_at, ticks, volume FROM {table} WHERE symbol = :s"),  # noqa: S608
        {"s": symbol},
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def empty() -> None:
    db.session.execute(text("TRUNCATE ticks, candles_1m, candles_1h, candles_1d, backfills, backfill_chunks"))
    db.session.commit()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bars=st.lists(minute_bar, min_size=1, max_size=30, unique_by=lambda b: b[0]),
    ticks=st.lists(live_tick, max_size=30, unique_by=lambda t: t.observed_at),
    order=st.randoms(use_true_random=False),
    repeats=st.booleans(),
)
def test_backfilled_and_live_candles_merge_without_double_counting(ctx, bars, ticks, order, repeats):
    """The rule: bars own the time before ``until``, live ticks the time after; a bucket across it
    is the merge of both parts. In any order of chunks and batches, repeated or not, every table
    equals the reference."""
    empty()
    db.session.add(Backfill(symbol="BTC-USD", source="simulated", until=UNTIL, chunks_total=99))
    db.session.commit()
    job = db.session.get(Backfill, "BTC-USD")
    bar_list = sorted((as_bar(*b) for b in bars), key=lambda b: b.start)
    steps: list[tuple[str, list]] = [("bars", bar_list[i : i + 7]) for i in range(0, len(bar_list), 7)]
    steps += [("ticks", ticks[i : i + 5]) for i in range(0, len(ticks), 5)]
    order.shuffle(steps)
    for kind_of, items in steps + (steps if repeats else []):
        if kind_of == "bars":
            backfill.write_chunk(job, Chunk("1m", items[0].start, items[-1].stop), items)
        elif items:
            store_ticks(items)
    reference = expected(bar_list, ticks)
    for table in TABLES:
        assert stored(table) == reference[table], table


def test_a_simulated_backfill_fills_every_range_once(ctx, client, settings):
    """Through the task, as the backfill process runs it: every chunk of each watched symbol, the
    ranges full from minutes to twenty years, each bar counted once, and a re-run adds nothing."""
    for _ in range(20):
        backfill_step.run()
        if all(job["state"] == "done" for job in backfill.progress()) and backfill.progress():
            break
    jobs = {job["symbol"]: job for job in backfill.progress()}
    assert set(jobs) == {"BTC-USD", "ETH-USD", "DOGE-USD"}
    assert all(
        job["state"] == "done" and job["percent"] == 100 and job["source"] == "simulated" for job in jobs.values()
    )
    job = db.session.get(Backfill, "BTC-USD")
    assert job.chunks_done == job.chunks_total == len(chunks(job.until, 20))
    bars = past(settings.simulator_seed, "BTC-USD", kind("BTC-USD").quote_type, backfill.known(job), 20)
    every = [bar for interval in ("1m", "1h", "1d") for bar in bars[interval]]
    totals = db.session.execute(
        text("SELECT (SELECT sum(volume) FROM candles_1d WHERE symbol = 'BTC-USD'), "
             "(SELECT count(*) FROM candles_1m WHERE symbol = 'BTC-USD')")
    ).one()  # fmt: skip
    assert totals == (sum(b.volume for b in every), len(bars["1m"]))  # each bar once, in every table above it
    year = client.get("/api/history/BTC-USD?range=1y").get_json()
    assert year["source"] == "candles_1d" and len(year["points"]) >= 360
    assert year["backfill"] == {"source": "simulated", "until": job.until.isoformat(), "state": "done"}
    assert all(p["volume"] > 0 for p in year["points"])
    everything = client.get("/api/history/BTC-USD?range=all").get_json()
    assert datetime.fromisoformat(everything["from"]) <= segments(job.until, 20).days + timedelta(days=1)
    week = client.get("/api/history/BTC-USD?range=7d").get_json()
    assert len(week["points"]) >= 300
    # Again: every chunk is recorded, so nothing is asked or added.
    db.session.execute(text("UPDATE backfills SET state = 'running'"))
    db.session.commit()
    assert backfill_step.run() == 0
    assert db.session.scalar(text("SELECT sum(volume) FROM candles_1d WHERE symbol = 'BTC-USD'")) == totals[0]


def test_a_stock_past_keeps_its_market_hours(ctx, client):
    known = Known("XNYS", datetime(2026, 11, 27, 18, 0, tzinfo=UTC), Decimal("200"))
    source = SimulatedSource(seed=0, interval_seconds=2)
    minutes = source.history("AAPL", "1m", datetime(2026, 11, 23, tzinfo=UTC), known.until, known)
    # New York: 14:30 to 21:00 UTC in winter; Thanksgiving (26th) closed.
    assert {b.start.date().day for b in minutes} == {23, 24, 25, 27}
    assert all((14, 30) <= (b.start.hour, b.start.minute) < (21, 0) for b in minutes)
    days = source.history("AAPL", "1d", datetime(2000, 1, 1, tzinfo=UTC), known.until, known)
    assert days and all(b.start.weekday() < 5 for b in days)


@pytest.mark.parametrize("kill_after_chunks", [4])
def test_a_backfill_process_killed_mid_way_resumes_without_counting_twice(
    ctx, server_env, settings, tmp_path, kill_after_chunks
):
    """The backfill and beat processes from the Procfile; the backfill one killed -9 after a few
    chunks and started again: every chunk once, every bar once."""
    commands = procfile_commands()
    stack = Stack(stack_env(server_env, BACKFILL_YEARS="2"), tmp_path)
    for name in ("backfill", "beat"):
        stack.start(name, commands[name])

    def chunks_done() -> int:
        db.session.rollback()  # a fresh snapshot
        return int(db.session.scalar(text("SELECT count(*) FROM backfill_chunks")))

    try:
        wait_until(lambda: chunks_done() >= kill_after_chunks, 90, f"{kill_after_chunks} chunks")
        stack.kill("backfill")
        killed_at = chunks_done()
        stack.start("backfill", commands["backfill"])
        wait_until(
            lambda: chunks_done() == 3 * len(chunks(db.session.get(Backfill, "BTC-USD").until, 2)), 180, "every chunk"
        )
    except Exception:
        print(stack.dump_logs())
        raise
    finally:
        stack.stop()
    assert killed_at < chunks_done()
    for symbol in ("BTC-USD", "ETH-USD", "DOGE-USD"):
        job = db.session.get(Backfill, symbol)
        db.session.refresh(job)
        bars = past(settings.simulator_seed, symbol, kind(symbol).quote_type, backfill.known(job), 2)
        every = [bar for interval in ("1m", "1h", "1d") for bar in bars[interval]]
        total = db.session.scalar(text("SELECT sum(volume) FROM candles_1d WHERE symbol = :s"), {"s": symbol})
        assert (job.state, total) == ("done", sum(b.volume for b in every)), symbol
