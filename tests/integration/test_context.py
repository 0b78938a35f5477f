"""/api/context: the day's figures, the previous close, the 52-week range and the volume, from
the candles (bars a backfill loaded and live ticks alike), checked against Python's sums."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from app.extensions import db
from app.market.candles import bars_sql
from app.market.prices import store_ticks
from app.market.ticks import Tick


def daily_bars(symbol: str, today: datetime, days: int) -> list[tuple]:
    """``days`` daily bars before today: prices that rise and fall with the day number."""
    bars = []
    for n in range(days, 0, -1):
        start = today - timedelta(days=n)
        base = Decimal(100 + (n * 37) % 50)
        bars.append((start, base, base + 5 + n % 3, base - 4 - n % 2, base + 1, Decimal(1000 + n)))
    db.session.execute(
        text(bars_sql("1d")),
        {
            "symbol": symbol,
            "starts": [b[0] for b in bars], "stops": [b[0] + timedelta(days=1) for b in bars],
            "opens": [b[1] for b in bars], "highs": [b[2] for b in bars], "lows": [b[3] for b in bars],
            "closes": [b[4] for b in bars], "volumes": [b[5] for b in bars],
        },
    )  # fmt: skip
    db.session.commit()
    return bars


def test_context_of_a_crypto_pair_from_backfilled_days_and_live_ticks(ctx, client):
    now = datetime.now(UTC).replace(microsecond=0)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    bars = daily_bars("BTC-USD", today, 400)
    first = max(today, now - timedelta(minutes=30))
    prices = ["120", "90", "130.5", "125"]
    ticks = [Tick("BTC-USD", Decimal(p), first + timedelta(seconds=10 * i), now, "simulated", Decimal("0.5"))
             for i, p in enumerate(prices)]  # fmt: skip
    store_ticks(ticks)
    (btc,) = [c for c in client.get("/api/context").get_json()["symbols"] if c["symbol"] == "BTC-USD"]
    year = [b for b in bars if b[0] > now - timedelta(days=365)]
    assert btc["day"] == {"date": today.date().isoformat(), "open": 120.0, "high": 130.5, "low": 90.0}
    assert btc["previous_close"] == float(bars[-1][4])  # yesterday's close
    assert btc["year_range"] == {
        "low": float(min([b[3] for b in year] + [Decimal(90)])),
        "high": float(max([b[2] for b in year] + [Decimal("130.5")])),
    }
    # crypto: the last 24 hours (the live ticks' 2.0, and yesterday's bar only if it began within them: not)
    assert (btc["volume"], btc["volume_span"]) == (2.0, "24h")


def test_context_of_a_stock_is_its_last_session_and_nothing_is_made_up(ctx, client):
    db.session.execute(text("UPDATE symbols SET quote_type = 'EQUITY', currency = 'USD' WHERE symbol = 'ETH-USD'"))
    db.session.commit()
    now = datetime.now(UTC)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    bars = daily_bars("ETH-USD", today, 3)
    answer = {c["symbol"]: c for c in client.get("/api/context").get_json()["symbols"]}
    eth = answer["ETH-USD"]
    last = bars[-1]
    assert eth["day"] == {"date": last[0].date().isoformat(), "open": float(last[1]), "high": float(last[2]),
                          "low": float(last[3])}  # fmt: skip
    assert eth["previous_close"] == float(bars[-2][4])
    assert (eth["volume"], eth["volume_span"], eth["currency"]) == (float(last[5]), "day", "USD")
    # DOGE has no candle at all: every figure null, none invented
    doge = answer["DOGE-USD"]
    assert [doge[k] for k in ("day", "previous_close", "year_range", "volume")] == [None] * 4
    assert doge["volume_span"] == "24h"  # a crypto pair by its name until the source describes it
