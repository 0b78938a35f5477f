"""Alert-check benchmark: one check of a 500-tick batch with 10 vs 100,000 active alerts, none of
them crossed, for each mix of rule kinds and three shapes: spread over 500 symbols, all on one
symbol, and a hot symbol (the whole batch is that symbol's ticks). The check must cost about the
same whatever the number of alerts: ≤ 2x.

Every symbol has a stored price of 100 every 10 minutes over the last 8 days (the change rules'
references); the batch
moves prices by at most 0.5 %, which no alert's threshold or percentage reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from app.alerting.alerts import _CANDIDATES, check_ticks, set_lookups
from app.extensions import db
from app.market.partitions import ensure_partitions
from app.market.ticks import Tick
from bench.data import add_inactive_symbols

SYMBOLS = [f"B{n:03d}-USD" for n in range(500)]
BATCH = 500
PRICE = Decimal(100)
# The page's windows (the form's choices): the change check looks up one reference per window.
WINDOWS = (300, 900, 3600, 4 * 3600, 86400, 7 * 86400)
HISTORY = timedelta(days=8)  # a stored price every 10 minutes over the longest window and a day
HISTORY_STEP = timedelta(minutes=10)

# Alert n of a mix: a change rule when (n / 500 + n) % 5 < :change_fifths (1 in 5 for the mixed rows, all for
# the change rows), else half above the price and half below. A third of each every_time (armed).
# Change rules: 1 % to 41 %, up / down / either, over the page's windows.
_MAKE_ALERTS = text(
    """
    INSERT INTO alerts (symbol, rule, direction, threshold, change_percent, window_seconds,
                        frequency, cooldown_seconds)
    SELECT (CAST(:symbols AS text[]))[1 + (n % :spread)], k.rule,
           CASE k.rule WHEN 'change' THEN (ARRAY['up', 'down', 'either'])[1 + (n / 7) % 3] ELSE k.rule END,
           CASE k.rule WHEN 'above' THEN 200 + n * 0.01 WHEN 'below' THEN 50 - n * 0.0004 END,
           CASE k.rule WHEN 'change' THEN 1 + n * 0.0004 END,
           CASE k.rule WHEN 'change' THEN (CAST(:windows AS int[]))[1 + (n / 3) % 6] END,
           CASE WHEN n % 3 = 0 THEN 'every_time' ELSE 'once' END,
           CASE WHEN n % 3 = 0 THEN 60 ELSE 0 END
    FROM generate_series(0, :count - 1) AS n
    CROSS JOIN LATERAL (SELECT CASE WHEN (n / 500 + n) % 5 < :change_fifths THEN 'change'
                                    WHEN n % 2 = 0 THEN 'above' ELSE 'below' END AS rule) k
    """
)

_MAKE_HISTORY = text(
    """
    INSERT INTO ticks (symbol, price, observed_at, received_at, source)
    SELECT s, 100, t, t, 'simulated'
    FROM unnest(CAST(:symbols AS text[])) AS s, unnest(CAST(:times AS timestamptz[])) AS t
    ON CONFLICT DO NOTHING
    """
)

KINDS = {  # name: how many fifths of the alerts are change rules
    "above/below": 0,
    "change": 5,
    "mixed, 20 % change": 1,
}

SHAPES = {  # name: (alerts spread over how many symbols, batch of one hot symbol)
    "spread over 500 symbols": (500, False),
    "all on one symbol": (1, False),
    "hot symbol (batch of one symbol)": (1, True),
}


def _history() -> None:
    now = datetime.now(UTC)
    times = [now - HISTORY + n * HISTORY_STEP for n in range(HISTORY // HISTORY_STEP)]
    ensure_partitions({t.date() for t in times} | {now.date()})
    db.session.execute(_MAKE_HISTORY, {"symbols": SYMBOLS, "times": times})
    db.session.commit()


def _setup(count: int, spread: int, change_fifths: int) -> None:
    db.session.execute(text("TRUNCATE alerts CASCADE"))
    db.session.execute(
        _MAKE_ALERTS,
        {
            "symbols": SYMBOLS,
            "spread": spread,
            "count": count,
            "change_fifths": change_fifths,
            "windows": list(WINDOWS),
        },
    )
    for symbol in SYMBOLS:  # a symbol's windows stay after TRUNCATE: set them again
        set_lookups(symbol)
    db.session.commit()
    # As autovacuum leaves it: statistics, and a visibility map for the index-only scans.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE alerts"))


def _batch(hot: bool) -> list[Tick]:
    now = datetime.now(UTC)
    symbols = [SYMBOLS[0]] * BATCH if hot else SYMBOLS[:BATCH]
    return [
        Tick(s, PRICE + Decimal(i % 50) / 100, now + timedelta(milliseconds=i), now, "simulated")
        for i, s in enumerate(symbols)
    ]


def run_alerts(
    best_of: Callable[[int, Callable[[int], None]], float], rounds: int, large: int
) -> dict[tuple[str, str], tuple[float, float]]:
    """{(kind, shape): (seconds with 10 alerts, seconds with ``large``)}; nothing may fire."""
    add_inactive_symbols(SYMBOLS)
    _history()
    results = {}
    for kind, change_fifths in KINDS.items():
        for shape, (spread, hot) in SHAPES.items():
            timings = []
            for count in (10, large):
                _setup(count, min(spread, count), change_fifths)
                batch = _batch(hot)
                fired = check_ticks(batch).fired
                if fired:
                    raise RuntimeError(f"{len(fired)} alerts fired: the benchmark's thresholds are off")
                timings.append(best_of(rounds, lambda n, batch=batch: check_ticks(batch)))
            results[kind, shape] = (timings[0], timings[1])
    return results


def explain(large: int, hot: bool) -> str:
    """EXPLAIN ANALYZE of the candidates query for the mixed kind with ``large`` alerts, spread over
    500 symbols or on the batch's one hot symbol."""
    _setup(large, 1 if hot else 500, KINDS["mixed, 20 % change"])
    batch = _batch(hot)
    rows = db.session.execute(
        text("EXPLAIN (ANALYZE, COSTS OFF) " + _CANDIDATES.text),
        {
            "symbols": [t.symbol for t in batch],
            "prices": [t.price for t in batch],
            "observed": [t.observed_at for t in batch],
        },
    )
    plan = "\n".join(r[0] for r in rows)
    db.session.rollback()
    return plan
