"""GET /api/history/<symbol> over real tables, retention, the 24 h change and sparklines."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.extensions import db
from app.market import indicators
from app.market.partitions import drop_partitions_before, existing_days
from app.market.prices import store_ticks
from app.market.ticks import Tick
from app.pipeline.pubsub import tell_markets
from tasks.maintenance import maintain_storage


def walk(symbol: str, start: datetime, count: int, step: timedelta, first: int = 100) -> list[Tick]:
    return [
        Tick(symbol, Decimal(first + (i % 17) - 8), start + i * step, start + i * step, "simulated")
        for i in range(count)
    ]


def test_one_hour_answers_from_raw_ticks_in_ten_second_buckets(client, ctx):
    now = datetime.now(UTC)
    ticks = walk("BTC-USD", now - timedelta(minutes=70), 70 * 30, timedelta(seconds=2))
    store_ticks(ticks)
    body = client.get("/api/history/btc-usd?range=1h").get_json()
    assert (body["symbol"], body["range"], body["bucket_seconds"], body["source"]) == ("BTC-USD", "1h", 10, "ticks")
    assert 355 <= len(body["points"]) <= 361
    start = datetime.fromisoformat(body["points"][1]["t"])
    inside = [t for t in ticks if start <= t.observed_at < start + timedelta(seconds=10)]
    assert body["points"][1] == {
        "t": start.isoformat(),
        "open": float(inside[0].price),
        "high": float(max(t.price for t in inside)),
        "low": float(min(t.price for t in inside)),
        "close": float(inside[-1].price),
        "ticks": 5,
        "volume": 0.0,
    }
    times = [p["t"] for p in body["points"]]
    assert times == sorted(times)


def test_bucket_times_are_utc_whatever_the_databases_time_zone(client, ctx):
    now = datetime.now(UTC)
    store_ticks(walk("BTC-USD", now - timedelta(minutes=5), 60, timedelta(seconds=2)))
    name = db.session.scalar(text("SELECT current_database()"))
    db.session.execute(text(f"ALTER DATABASE {name} SET timezone = 'America/New_York'"))
    db.session.commit()
    db.engine.dispose()  # new connections: they would take the database's zone
    try:
        body = client.get("/api/history/BTC-USD?range=1h").get_json()
    finally:
        db.session.execute(text(f"ALTER DATABASE {name} RESET timezone"))
        db.session.commit()
        db.engine.dispose()
    assert body["points"] and all(p["t"].endswith("+00:00") for p in body["points"])


def test_wider_ranges_merge_candles_and_respect_max_points(client, ctx):
    now = datetime.now(UTC)
    store_ticks(walk("ETH-USD", now - timedelta(hours=30), 30 * 60, timedelta(minutes=1)))
    day = client.get("/api/history/ETH-USD?range=24h").get_json()
    assert (day["bucket_seconds"], day["source"]) == (300, "candles_1m")
    assert 288 <= len(day["points"]) <= 289
    assert sum(p["ticks"] for p in day["points"]) in range(24 * 60 - 1, 24 * 60 + 1)
    few = client.get("/api/history/ETH-USD?range=24h&max_points=10").get_json()
    assert (few["bucket_seconds"], few["source"]) == (10_800, "candles_1h")
    assert len(few["points"]) in (8, 9)  # 3 h buckets on a UTC grid: 8 when 24 h aligns with it
    assert few["points"][-1]["close"] == day["points"][-1]["close"]  # the same newest price either way
    everything = client.get("/api/history/ETH-USD?range=all").get_json()
    assert everything["source"] == "candles_1m" and sum(p["ticks"] for p in everything["points"]) == 30 * 60


def test_from_to_and_empty_ranges(client, ctx):
    store_ticks(walk("DOGE-USD", datetime(2026, 6, 1, tzinfo=UTC), 120, timedelta(minutes=1)))
    body = client.get("/api/history/DOGE-USD?from=2026-06-01T00:30:00Z&to=2026-06-01T01:00:00Z").get_json()
    assert (body["range"], body["from"], body["to"]) == (None, "2026-06-01T00:30:00+00:00", "2026-06-01T01:00:00+00:00")
    assert body["source"] == "candles_1h"  # that long ago only hourly candles are promised
    empty = client.get("/api/history/DOGE-USD?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z")
    assert empty.status_code == 200 and empty.get_json()["points"] == []
    nothing = client.get("/api/history/BTC-USD?range=all")
    assert nothing.status_code == 200 and nothing.get_json()["points"] == []


def test_bad_range_input_is_refused_with_the_field(client, ctx):
    # 400: not of the documented form; 422: of the form, but the values do not go together.
    for query, status, field in (("range=2y", 400, "range"), ("from=nope", 400, "from"),
                                 ("max_points=0", 400, "max_points"),
                                 ("from=2026-06-02T00:00Z&to=2026-06-01T00:00Z", 422, "from")):  # fmt: skip
        response = client.get(f"/api/history/BTC-USD?{query}")
        assert (response.status_code, response.get_json()["field"]) == (status, field)
    unknown = client.get("/api/history/NOPE-USD?range=1h")
    assert unknown.status_code == 404 and unknown.get_json()["field"] == "symbol"
    # Past the ends of the calendar in UTC (issue 19: these answered 500). A date-time the document
    # takes: 422, as every value of the documented form that cannot be used.
    for query, field in (
        ("from=0001-01-01T00:00:00%2B14:00", "from"),
        ("from=2026-06-01T00:00Z&to=9999-12-31T23:59:59-14:00", "to"),
    ):
        response = client.get(f"/api/history/BTC-USD?{query}")
        assert response.status_code == 422
        assert response.get_json() == {"error": f"{field} is out of range in UTC", "field": field}


def test_retention_drops_whole_old_days_and_ranges_still_answer_from_candles(app, client, ctx):
    now = datetime.now(UTC)
    old_day = now - timedelta(days=10)
    store_ticks(walk("BTC-USD", old_day.replace(hour=1, minute=0, second=0, microsecond=0), 120, timedelta(minutes=1)))
    store_ticks(walk("BTC-USD", now - timedelta(minutes=30), 30, timedelta(minutes=1)))
    before = client.get("/api/history/BTC-USD?range=30d").get_json()
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = settings.__class__(**{**settings.__dict__, "candles_1m_retention_days": 5})
    try:
        result = maintain_storage.run()
    finally:
        app.config["SETTINGS"] = settings
    assert result["raw_days_dropped"] >= 1 and result["minute_candles_deleted"] == 120
    assert old_day.date() not in existing_days() and now.date() in existing_days()
    counts = db.session.execute(
        text(
            "SELECT (SELECT count(*) FROM ticks), (SELECT count(*) FROM candles_1m), (SELECT count(*) FROM candles_1h)"
        )
    ).one()
    assert counts[0] == 30 and counts[1] == 30 and counts[2] >= 3  # recent raw and minutes kept, all hours kept
    after = client.get("/api/history/BTC-USD?range=30d").get_json()
    assert after["source"] == "candles_1h" and after["points"] == before["points"]


def test_latest_prices_carry_the_24h_change_and_sparklines(client, ctx):
    now = datetime.now(UTC)
    store_ticks(walk("BTC-USD", now - timedelta(hours=25), 25 * 60 + 1, timedelta(minutes=1), first=200))
    latest = {p["symbol"]: p for p in client.get("/api/prices/latest").get_json()["prices"]}
    btc = latest["BTC-USD"]
    back = db.session.scalar(
        text("SELECT close FROM candles_1m WHERE symbol = 'BTC-USD' AND bucket <= now() - interval '24 hours' "
             "ORDER BY bucket DESC LIMIT 1")
    )  # fmt: skip
    assert btc["price_24h_ago"] == float(back)
    assert (
        now - timedelta(hours=24, minutes=2)
        < datetime.fromisoformat(btc["price_24h_ago_at"])
        <= now - timedelta(hours=24)
    )
    assert btc["change_24h_percent"] == round((btc["price"] - float(back)) / float(back) * 100, 4)
    lines = client.get("/api/sparklines").get_json()
    assert lines["bucket_seconds"] == 1800 and set(lines["symbols"]) == {"BTC-USD"}
    assert 48 <= len(lines["symbols"]["BTC-USD"]) <= 49
    assert lines["symbols"]["BTC-USD"][-1][1] == btc["price"]


def test_a_drop_interrupted_after_the_detach_is_finished_next_time(ctx):
    old = datetime.now(UTC) - timedelta(days=20)
    store_ticks(walk("ETH-USD", old, 10, timedelta(minutes=1)))
    name = f"ticks_p{old:%Y%m%d}"
    db.session.execute(text(f"ALTER TABLE ticks DETACH PARTITION {name}"))  # then the process died
    db.session.commit()
    assert old.date() not in existing_days()
    assert drop_partitions_before(datetime.now(UTC) - timedelta(days=7)) == [old.date()]
    assert db.session.scalar(text("SELECT to_regclass(:n)"), {"n": name}) is None


def test_a_history_younger_than_a_day_says_since_when(client, ctx):
    now = datetime.now(UTC)
    store_ticks(walk("ETH-USD", now - timedelta(minutes=10), 10, timedelta(minutes=1)))
    eth = {p["symbol"]: p for p in client.get("/api/prices/latest").get_json()["prices"]}["ETH-USD"]
    assert eth["price_24h_ago"] == 92.0  # the first tick's price (walk starts at 100 - 8)
    assert eth["price_24h_ago_at"] == (now - timedelta(minutes=10)).isoformat()


def test_a_closed_markets_hour_is_its_last_session_not_an_empty_grid(client, ctx, redis_client):
    """A closed stock's 1H was an empty grid (issue 21): it shows the hour before its close."""
    close = (datetime.now(UTC) - timedelta(hours=5)).replace(second=0, microsecond=0)
    store_ticks(walk("ETH-USD", close - timedelta(minutes=90), 90 * 6, timedelta(seconds=10)))
    session = {"calendar": "XNYS", "state": "closed", "last_close": close.isoformat(), "next_open": None}
    session["next_close"] = None
    tell_markets(redis_client, {"ETH-USD": session})
    body = client.get("/api/history/ETH-USD?range=1h").get_json()
    assert (body["from"], body["to"]) == ((close - timedelta(hours=1)).isoformat(), close.isoformat())
    assert body["points"] and body["points"][-1]["t"] < close.isoformat()
    assert len(body["points"]) >= 300  # the session's last hour, in 10 s buckets
    assert client.get("/api/history/ETH-USD?range=24h").get_json()["to"] > close.isoformat()  # wider ranges: to now
    tell_markets(redis_client, {"ETH-USD": session | {"state": "open", "last_close": None}})
    assert client.get("/api/history/ETH-USD?range=1h").get_json()["points"] == []  # open: the hour to now, empty


def test_indicators_ride_on_the_same_buckets_warmed_up_on_the_ones_before(client, ctx):
    # 30 h of 1-minute prices: the 24 h range in 5-minute buckets has 6 h of buckets before it.
    now = datetime.now(UTC)
    store_ticks(walk("ETH-USD", now - timedelta(hours=30), 30 * 60, timedelta(minutes=1)))
    plain = client.get("/api/history/ETH-USD?range=24h").get_json()
    body = client.get("/api/history/ETH-USD?range=24h&indicators=sma:20,ema:10,bb:20:2,rsi:14").get_json()
    assert body["points"] == plain["points"] and plain["indicators"] == {}  # asking changes no bucket
    assert sorted(body["indicators"]) == ["bb:20:2", "ema:10", "rsi:14", "sma:20"]
    # The reference: the same table in the same buckets from 2 h before the range, so every
    # indicator is warm at the range's first bucket.
    start = datetime.fromisoformat(plain["points"][0]["t"])
    wider = client.get(
        "/api/history/ETH-USD",
        query_string={"from": (start - timedelta(hours=2)).isoformat(), "to": plain["to"], "max_points": 320},
    ).get_json()
    assert (wider["bucket_seconds"], wider["source"]) == (300, "candles_1m")
    closes = [p["close"] for p in wider["points"]]
    shown = len(closes) - len(plain["points"])
    assert [p["t"] for p in wider["points"][shown:]] == [p["t"] for p in plain["points"]]
    assert body["indicators"]["sma:20"] == pytest.approx(indicators.sma(closes, 20)[shown:])
    assert body["indicators"]["bb:20:2"]["upper"] == pytest.approx(
        indicators.bollinger(closes, 20, 2.0)["upper"][shown:]
    )
    assert None not in body["indicators"]["sma:20"] and None not in body["indicators"]["rsi:14"]
    assert all(0 <= v <= 100 for v in body["indicators"]["rsi:14"])
    assert len(body["indicators"]["ema:10"]) == len(body["points"])
    # A range from a symbol's first bucket warms up inside it: nulls, then values.
    first = client.get("/api/history/ETH-USD?range=all&indicators=sma:20").get_json()
    assert first["indicators"]["sma:20"][:19] == [None] * 19 and first["indicators"]["sma:20"][19] is not None


def test_a_range_starting_after_its_first_buckets_last_row_still_warms_up_on_that_bucket(client, ctx):
    # Minute prices at :00; the range starts at 00:39:30, after the 00:35 bucket's last minute:
    # that bucket is not shown, and the first shown one (00:40) is warmed up on it.
    anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
    store_ticks(walk("ETH-USD", anchor, 30 * 60, timedelta(minutes=1)))
    start = anchor + timedelta(hours=3, minutes=39, seconds=30)
    span = {"from": start.isoformat(), "to": (start + timedelta(hours=24)).isoformat()}
    body = client.get("/api/history/ETH-USD", query_string=span | {"indicators": "sma:20"}).get_json()
    assert (body["bucket_seconds"], body["points"][0]["t"]) == (300, (start + timedelta(seconds=30)).isoformat())
    wider = client.get(
        "/api/history/ETH-USD",
        query_string={"from": (start - timedelta(hours=2)).isoformat(), "to": span["to"], "max_points": 320},
    ).get_json()
    closes = [p["close"] for p in wider["points"]]
    shown = len(closes) - len(body["points"])
    assert wider["points"][shown - 1]["t"] == (start - timedelta(minutes=4, seconds=30)).isoformat()  # 00:35
    assert body["indicators"]["sma:20"] == pytest.approx(indicators.sma(closes, 20)[shown:])


def test_bad_indicator_specs_are_refused_naming_them(client, ctx):
    response = client.get("/api/history/BTC-USD?range=1h&indicators=sma:20,macd:12")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "indicators: 'macd:12' is not one of sma:<period>, ema:<period>, bb:<period>:<width>, rsi:<period>",
        "field": "indicators",
    }
    response = client.get("/api/history/BTC-USD?range=1h&indicators=rsi:1")
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "indicators: 'rsi:1': the period must be from 2 to 500",
        "field": "indicators",
    }
