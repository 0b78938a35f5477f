"""Alert-check benchmark: one check of a 500-tick batch with 10 vs 100,000 active alerts, none of
them crossed, in three shapes: spread over 500 symbols, all on one symbol, and a hot symbol (the
whole batch is that symbol's ticks). The check must cost about the same: ≤ 2x."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from app.alerting.alerts import _CANDIDATES, check_ticks
from app.extensions import db
from app.market.ticks import Tick
from bench.data import add_inactive_symbols

SYMBOLS = [f"B{n:03d}-USD" for n in range(500)]
BATCH = 500
PRICE = Decimal(100)

# Half above the price, half below; a third of them every_time (armed), none crossed by PRICE.
_MAKE_ALERTS = text(
    """
    INSERT INTO alerts (symbol, rule, direction, threshold, frequency, cooldown_seconds)
    SELECT (CAST(:symbols AS text[]))[1 + (n % :spread)],
           CASE WHEN n % 2 = 0 THEN 'above' ELSE 'below' END,
           CASE WHEN n % 2 = 0 THEN 'above' ELSE 'below' END,
           CASE WHEN n % 2 = 0 THEN 200 + n * 0.01 ELSE 50 - n * 0.0004 END,
           CASE WHEN n % 3 = 0 THEN 'every_time' ELSE 'once' END,
           CASE WHEN n % 3 = 0 THEN 60 ELSE 0 END
    FROM generate_series(0, :count - 1) AS n
    """
)


def _setup(count: int, spread: int) -> None:
    db.session.execute(text("TRUNCATE alerts CASCADE"))
    add_inactive_symbols(SYMBOLS)
    db.session.execute(_MAKE_ALERTS, {"symbols": SYMBOLS, "spread": spread, "count": count})
    db.session.commit()
    db.session.execute(text("ANALYZE alerts"))
    db.session.commit()


def _batch(hot: bool) -> list[Tick]:
    now = datetime.now(UTC)
    symbols = [SYMBOLS[0]] * BATCH if hot else SYMBOLS[:BATCH]
    return [Tick(s, PRICE, now + timedelta(milliseconds=i), now, "simulated") for i, s in enumerate(symbols)]


SHAPES = {  # name: (alerts spread over how many symbols, batch of one hot symbol)
    "spread over 500 symbols": (500, False),
    "all on one symbol": (1, False),
    "hot symbol (batch of one symbol)": (1, True),
}


def run_alerts(best_of: Callable[[int, Callable[[int], None]], float], rounds: int, large: int) -> dict[str, tuple]:
    """{shape: (seconds with 10 alerts, seconds with ``large``)}; nothing may fire."""
    results = {}
    for name, (spread, hot) in SHAPES.items():
        timings = []
        for count in (10, large):
            _setup(count, min(spread, count))
            batch = _batch(hot)
            fired = check_ticks(batch).fired
            if fired:
                raise RuntimeError(f"{len(fired)} alerts fired: the benchmark's thresholds are off")
            timings.append(best_of(rounds, lambda n, batch=batch: check_ticks(batch)))
        results[name] = tuple(timings)
    return results


def explain_hot(large: int) -> str:
    """EXPLAIN ANALYZE of the candidates query for the hot-symbol batch with ``large`` alerts."""
    _setup(large, 1)
    batch = _batch(hot=True)
    rows = db.session.execute(
        text("EXPLAIN (ANALYZE, COSTS OFF) " + _CANDIDATES.text),
        {"symbols": [t.symbol for t in batch], "prices": [t.price for t in batch]},
    )
    plan = "\n".join(r[0] for r in rows)
    db.session.rollback()
    return plan
