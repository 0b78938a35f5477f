"""The fetch task against real Redis and Kafka: produce, skip while running, survive a failing source."""

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kafka import KafkaConsumer
from sqlalchemy import text

import tasks.fetch as fetch
from app.extensions import db
from app.market.prices import store_ticks
from app.market.sources import SourceError, Throttled, chosen
from app.market.sources.backoff import Backoff
from app.market.sources.exchange import ExchangeSource
from app.market.sources.routes import Watched
from app.market.sources.simulated import SimulatedSource
from app.market.ticks import Tick
from app.market.watchlist import sync_symbols
from app.pipeline.pubsub import read_status
from app.portfolio import transactions
from app.web.validation import parse_trade
from tasks.producer import close_producer
from tests.integration.helpers import wait_for
from tests.replay import KrakenReplay, kraken_session


class BrokenSource:
    name = "yfinance"

    def fetch(self, symbols, now):
        raise SourceError("Yahoo Finance did not answer within 10 s")


@pytest.fixture
def fetch_topic(app, settings, topic):
    """Point the app's settings at a topic of this test's own; restore them after."""
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = replace(settings, kafka_topic=topic)
    yield topic
    app.config["SETTINGS"] = original
    chosen._source = chosen._crypto = None
    close_producer()


def consume(settings, topic: str, expected: int) -> list[Tick]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"reader-{topic}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    ticks: list[Tick] = []
    keys: list[bytes] = []

    def read() -> bool:
        for records in consumer.poll(timeout_ms=500).values():
            ticks.extend(Tick.decode(r.value) for r in records)
            keys.extend(r.key for r in records)
        return len(ticks) >= expected

    wait_for(read, 30, f"{expected} ticks on {topic}")
    consumer.close()
    assert keys == [t.symbol.encode() for t in ticks]  # key = symbol
    return ticks


def test_one_fetch_produces_one_tick_per_active_symbol(ctx, settings, fetch_topic, redis_client):
    chosen._source = SimulatedSource(seed=1, interval_seconds=2)
    assert fetch.fetch_prices.run() == 3
    ticks = consume(settings, fetch_topic, 3)
    assert sorted(t.symbol for t in ticks) == ["BTC-USD", "DOGE-USD", "ETH-USD"]
    assert {t.source for t in ticks} == {"simulated"}
    assert all(t.received_at >= t.observed_at for t in ticks)
    assert read_status(redis_client)["fetch"] | {"at": 0} == {
        "at": 0, "ticks": 3, "source": "simulated", "sources": ["simulated"], "last_error": None,
    }  # fmt: skip


def test_a_fetch_skips_while_the_previous_one_runs(ctx, fetch_topic, redis_client):
    chosen._source = SimulatedSource(seed=1, interval_seconds=2)
    lock = redis_client.lock(fetch.FETCH_LOCK, timeout=30)
    assert lock.acquire(blocking=False)
    try:
        assert fetch.fetch_prices.run() == 0
    finally:
        lock.release()
    assert read_status(redis_client)["fetch"]["skipped"] == 1
    assert fetch.fetch_prices.run() == 3


def test_a_failing_source_is_logged_and_counted_not_raised(ctx, fetch_topic, redis_client, caplog):
    chosen._source = BrokenSource()
    assert fetch.fetch_prices.run() == 0
    assert fetch.fetch_prices.run() == 0
    status = read_status(redis_client)["fetch"]
    assert status["failures"] == 2
    assert status["last_error"] == "yfinance: Yahoo Finance did not answer within 10 s"
    assert "fetch from yfinance failed for BTC-USD,ETH-USD,DOGE-USD" in caplog.text
    assert not redis_client.exists(fetch.FETCH_LOCK)  # released for the next run


class ThrottledYahoo:
    name = "yfinance"

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def fetch(self, symbols, now):
        self.asked.append(list(symbols))
        raise Throttled("Yahoo Finance answered 429 Too Many Requests")


def test_while_yahoo_rests_crypto_comes_from_the_exchange_and_says_so(ctx, client, settings, fetch_topic, redis_client):
    """CRYPTO_FALLBACK=ccxt:kraken (the default): Yahoo's 429 does not freeze BTC; the stocks wait."""
    yahoo, adapter = ThrottledYahoo(), KrakenReplay()
    kraken = ExchangeSource("kraken", timeout_seconds=5, session=kraken_session(adapter))
    assert client.post("/api/symbols", json={"symbol": "AAPL"}).status_code == 201  # a stock: Yahoo's only
    chosen._source, chosen._crypto = yahoo, {"source": None, "fallback": kraken}
    with_stock = [Watched("BTC-USD", "CRYPTOCURRENCY"), Watched("ETH-USD"), Watched("DOGE-USD")]
    with_stock.append(Watched("AAPL", "EQUITY"))
    assert [r.symbols for r in chosen.routes(with_stock)] == [("BTC-USD", "ETH-USD", "DOGE-USD", "AAPL")]

    started = time.time()
    assert fetch.fetch_prices.run() == 3  # Yahoo refused; Kraken answered for the three pairs
    # the rest as it stood when the fetch began: a short one (1-2 s) may be over by now on a busy machine
    rest = Backoff(redis_client, "yfinance", clock=lambda: started).resting()
    assert rest is not None and rest.stand_in == "ccxt:kraken"
    redis_client.hset("stockticker:source:backoff:yfinance", "until", time.time() + 60)  # a longer rest
    assert fetch.fetch_prices.run() == 3  # Yahoo rests and is not asked; Kraken again
    assert yahoo.asked == [["BTC-USD", "ETH-USD", "DOGE-USD", "AAPL"]]
    assert adapter.asked == ["Assets", "AssetPairs"] + ["Ticker?pair=XXBTZUSD,XETHZUSD,XDGUSD"] * 2
    ticks = consume(settings, fetch_topic, 6)
    assert {(t.symbol, t.source) for t in ticks} == {
        ("BTC-USD", "ccxt:kraken"), ("ETH-USD", "ccxt:kraken"), ("DOGE-USD", "ccxt:kraken"),
    }  # fmt: skip
    assert {t.price for t in ticks if t.symbol == "BTC-USD"} == {Decimal("96312.40")}
    state = client.get("/api/status").json
    assert state["source_state"]["stand_in"] == "ccxt:kraken"
    assert state["pipeline"]["fetch"]["sources"] == ["ccxt:kraken"]


# The Saturday after Thanksgiving 2026: New York shut since Friday's early close (13:00 there).
SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
CLOSED = {
    "calendar": "XNYS",
    "state": "closed",
    "last_close": "2026-11-27T18:00:00+00:00",
    "next_open": "2026-11-30T14:30:00+00:00",
    "next_close": None,
}


def test_a_closed_market_is_said_once_and_its_stock_asked_only_for_a_first_price(
    ctx, client, settings, fetch_topic, redis_client, monkeypatch
):
    from app.pipeline.pubsub import ALERTS_CHANNEL

    listener = redis_client.pubsub()
    listener.subscribe(ALERTS_CHANNEL)
    listener.get_message(timeout=1)
    monkeypatch.setattr(fetch, "clock", lambda: SATURDAY)
    chosen._source = SimulatedSource(seed=1, interval_seconds=2)
    for symbol in ("AAPL", "MSFT"):  # the simulator gives stocks New York's hours
        assert client.post("/api/symbols", json={"symbol": symbol}).json["symbol"]["calendar"] == "XNYS"
    friday_close = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    store_ticks([Tick("AAPL", Decimal("201.5"), friday_close, friday_close, "simulated")])

    assert fetch.fetch_prices.run() == 4  # the three pairs, and MSFT's first price; AAPL has its close
    assert fetch.fetch_prices.run() == 4
    ticks = consume(settings, fetch_topic, 8)
    assert sorted({t.symbol for t in ticks}) == ["BTC-USD", "DOGE-USD", "ETH-USD", "MSFT"]
    told = [json.loads(m["data"]) for m in iter(lambda: listener.get_message(timeout=0.5), None)]
    listener.close()
    # Said when first seen; the second fetch changed nothing, so said nothing.
    assert [m["markets"] for m in told if m["type"] == "markets"] == [{"AAPL": CLOSED, "MSFT": CLOSED}]
    assert client.get("/api/prices/latest").json["markets"] == {"AAPL": CLOSED, "MSFT": CLOSED}
    # The seeded pairs have no calendar in this database (not described): hours unknown, always asked.


def test_auto_is_decided_once_for_every_process_and_afresh_at_setup(app, ctx, redis_client):
    from app.pipeline.pubsub import AUTO_SOURCE_KEY

    assert chosen.decide_once(lambda: "simulated") == "simulated"
    # Another worker process asks later, when Yahoo would answer: it gets the stack's answer.
    assert chosen.decide_once(lambda: "yfinance") == "simulated"
    result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert not redis_client.exists(AUTO_SOURCE_KEY)
    assert chosen.decide_once(lambda: "yfinance") == "yfinance"


def test_the_simulated_walk_lives_in_redis_and_two_processes_continue_it(ctx, redis_client):
    state = chosen.RedisWalkState(redis_client, chosen.SIMULATOR_STATE)
    assert state.get_many(["BTC-USD"]) == {}
    first = SimulatedSource(seed=3, interval_seconds=2, state=state)
    other_process = chosen.RedisWalkState(redis_client, chosen.SIMULATOR_STATE)
    second = SimulatedSource(seed=3, interval_seconds=2, state=other_process)
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    a = first.fetch(["BTC-USD", "ETH-USD"], t0)
    b = second.fetch(["BTC-USD", "ETH-USD"], t0 + timedelta(seconds=1))  # same slot: same ticks
    c = second.fetch(["BTC-USD", "ETH-USD"], t0 + timedelta(seconds=2))  # next slot: continues a's walk
    assert a == b
    stored = {k.decode(): v.decode() for k, v in redis_client.hgetall(chosen.SIMULATOR_STATE).items()}
    assert stored == {q.symbol: f"{int(t0.timestamp()) // 2 + 1}:{q.price}" for q in c}
    assert state.get_many(["ETH-USD", "XRP-USD"]) == {"ETH-USD": stored["ETH-USD"]}


def test_held_symbols_and_the_fx_rates_they_need_are_fetched_off_the_watchlist(ctx, app, settings, fetch_topic):
    sync_symbols(["BTC-USD", "ETH-USD", "DOGE-USD", "SAP.DE", "AAPL"])
    db.session.execute(text("UPDATE symbols SET currency = 'EUR' WHERE symbol = 'SAP.DE'"))
    db.session.execute(text("UPDATE symbols SET currency = 'USD' WHERE symbol = 'AAPL'"))
    db.session.commit()
    for symbol, side in (("SAP.DE", "buy"), ("AAPL", "buy"), ("AAPL", "sell")):  # AAPL: bought, all sold
        trade = {"symbol": symbol, "side": side, "quantity": "3", "price": "100", "date": "2026-01-05"}
        transactions.add(parse_trade(trade))
    sync_symbols(["BTC-USD", "ETH-USD", "DOGE-USD"])  # SAP.DE and AAPL off every list
    chosen._source = SimulatedSource(seed=1, interval_seconds=2)
    assert fetch.fetch_prices.run() == 5
    ticks = consume(settings, fetch_topic, 5)
    assert sorted(t.symbol for t in ticks) == ["BTC-USD", "DOGE-USD", "ETH-USD", "EURUSD=X", "SAP.DE"]
    fx = db.session.execute(text("SELECT active FROM symbols WHERE symbol = 'EURUSD=X'")).scalar_one()
    assert fx is False  # known so its ticks are stored, on no list: no card for it
