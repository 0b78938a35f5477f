"""Crypto from an exchange through ccxt (Kraken's recorded answers), the explicit pair mapping,
and which source each symbol is asked of."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.market.sources import Match, SourceError, Throttled, UnknownSymbol
from app.market.sources.exchange import ExchangeSource, UnknownExchange, pair_for
from app.market.sources.routes import Route, Watched, is_crypto, plan
from app.market.sources.simulated import SimulatedSource
from tests.replay import KrakenReplay, kraken_session

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def kraken(adapter: KrakenReplay | None = None) -> ExchangeSource:
    return ExchangeSource("kraken", timeout_seconds=5, session=kraken_session(adapter or KrakenReplay()))


def test_kraken_prices_come_from_one_ticker_call_for_the_pairs_it_lists():
    adapter = KrakenReplay()
    quotes = kraken(adapter).fetch(["BTC-USD", "ETH-USD", "DOGE-USD", "PEPE-USD"], NOW)
    assert [(q.symbol, q.price, q.observed_at) for q in quotes] == [
        ("BTC-USD", Decimal("96312.40"), NOW),  # Kraken's ticker has no time: as of our asking
        ("ETH-USD", Decimal("3561.270"), NOW),
        ("DOGE-USD", Decimal("0.1623410"), NOW),  # Kraken's XDG is DOGE
    ]
    assert adapter.asked == ["Assets", "AssetPairs", "Ticker?pair=XXBTZUSD,XETHZUSD,XDGUSD"]


def test_the_markets_are_asked_once_per_process():
    adapter = KrakenReplay()
    source = kraken(adapter)
    source.fetch(["BTC-USD"], NOW)
    source.fetch(["BTC-USD"], NOW)
    assert adapter.asked == ["Assets", "AssetPairs", "Ticker?pair=XXBTZUSD", "Ticker?pair=XXBTZUSD"]


@pytest.mark.parametrize(
    ("ticker", "message"),
    [
        ("429", "Kraken refused the prices: too many requests"),
        ("busy", 'Kraken refused the prices: too many requests (kraken {"error":["EGeneral:Too many requests"]})'),
    ],
)
def test_a_refusal_for_asking_too_often_is_throttling(ticker, message):
    with pytest.raises(Throttled) as caught:
        kraken(KrakenReplay(ticker=ticker)).fetch(["BTC-USD"], NOW)
    assert str(caught.value).startswith(message)


def test_a_pair_the_exchange_does_not_price_is_said_once_not_every_interval(caplog):
    source = kraken()
    for _ in range(3):
        assert [q.symbol for q in source.fetch(["BTC-USD", "PEPE-USD"], NOW)] == ["BTC-USD"]
    said = [r.getMessage() for r in caplog.records if "gave no price" in r.getMessage()]
    assert said == ["Kraken gave no price for PEPE-USD (no such market there, or no trade): said once"]


def test_no_listed_pair_is_an_error_not_an_empty_answer():
    with pytest.raises(SourceError, match=r"^Kraken lists none of PEPE-USD, AAPL$"):
        kraken().fetch(["PEPE-USD", "AAPL"], NOW)


def test_describe_names_the_market_or_says_which_were_looked_for():
    listing = kraken().describe("SOL-USD")
    assert (listing.name, listing.currency, listing.exchange, listing.quote_type) == (
        "SOL/USD", "USD", "Kraken", "CRYPTOCURRENCY",
    )  # fmt: skip
    with pytest.raises(UnknownSymbol, match=r"^Kraken has no PEPE/USD or PEPE/USDT or PEPE/USDC market$"):
        kraken().describe("PEPE-USD")


def test_an_exchange_ccxt_does_not_know_is_named():
    with pytest.raises(UnknownExchange, match=r"ccxt has no exchange 'krakn'"):
        ExchangeSource("krakn", timeout_seconds=5)


BINANCE_LIKE = {  # Binance quotes in stablecoins: no BTC/USD
    "BTC/USDT": {"spot": True, "active": True},
    "BTC/USDC": {"spot": True, "active": True},
    "ETH/USDC": {"spot": True, "active": True},
    "DOGE/USDT": {"spot": True, "active": False},  # halted
    "ETH/EUR": {"spot": True, "active": True},
    "BTC/USDT:USDT": {"spot": False, "active": True},  # a perpetual swap is not a price of the coin
}


@pytest.mark.parametrize(
    ("symbol", "markets", "pair"),
    [
        ("BTC-USD", {"BTC/USD": {}, "BTC/USDT": {}}, "BTC/USD"),  # the real dollar first
        ("BTC-USD", BINANCE_LIKE, "BTC/USDT"),  # then USDT, then USDC
        ("ETH-USD", BINANCE_LIKE, "ETH/USDC"),
        ("DOGE-USD", BINANCE_LIKE, None),  # an inactive market is none
        ("ETH-EUR", BINANCE_LIKE, "ETH/EUR"),
        ("BTC-GBP", BINANCE_LIKE, None),  # no stand-in for pounds
        ("AAPL", BINANCE_LIKE, None),
        ("BRK-B", {"BRK/B": {}}, "BRK/B"),  # the form matches; routes never send a stock here (below)
    ],
)
def test_yahoo_pairs_map_to_exchange_markets_explicitly(symbol, markets, pair):
    assert pair_for(symbol, markets) == pair


def test_crypto_is_what_the_source_said_else_the_pair_form():
    assert is_crypto("BTC-USD", "CRYPTOCURRENCY") and is_crypto("SOL-USD", None)
    assert not is_crypto("BRK-B", None) and not is_crypto("AAPL", "EQUITY") and not is_crypto("EURUSD=X", None)
    assert not is_crypto("ABC-USD", "EQUITY")  # the source's word wins over the form


class Named:
    def __init__(self, name: str) -> None:
        self.name = name


WATCHED = [Watched("BTC-USD", "CRYPTOCURRENCY"), Watched("AAPL", "EQUITY"), Watched("ETH-USD")]


def test_yahoo_for_everything_with_the_exchange_standing_in_for_crypto():
    yahoo, kraken_ = Named("yfinance"), Named("ccxt:kraken")
    assert plan(yahoo, WATCHED, None, kraken_) == [
        Route(yahoo, ("BTC-USD", "AAPL", "ETH-USD"), Route(kraken_, ("BTC-USD", "ETH-USD")))
    ]
    assert plan(yahoo, WATCHED) == [Route(yahoo, ("BTC-USD", "AAPL", "ETH-USD"))]
    only_stocks = [Watched("AAPL", "EQUITY")]
    assert plan(yahoo, only_stocks, None, kraken_) == [Route(yahoo, ("AAPL",))]  # nothing to stand in for


def test_crypto_from_the_exchange_with_yahoo_standing_in():
    yahoo, kraken_ = Named("yfinance"), Named("ccxt:kraken")
    assert plan(yahoo, WATCHED, kraken_, yahoo) == [
        Route(yahoo, ("AAPL",)),
        Route(kraken_, ("BTC-USD", "ETH-USD"), Route(yahoo, ("BTC-USD", "ETH-USD"))),
    ]
    assert plan(yahoo, [Watched("BTC-USD")], kraken_) == [Route(kraken_, ("BTC-USD",))]
    assert plan(yahoo, []) == []


def test_the_simulator_takes_every_symbol():
    simulated = SimulatedSource(seed=1, interval_seconds=2)
    assert plan(simulated, WATCHED) == [Route(simulated, ("BTC-USD", "AAPL", "ETH-USD"))]


def test_kraken_history_is_its_ohlc_answer_within_the_chunk():
    """Kraken's documented OHLC example (tests/fixtures/README.md): 1 m bars of BTC/USD."""
    from datetime import timedelta

    from app.market.sources import Known

    adapter = KrakenReplay()
    start = datetime(2023, 7, 6, 19, 20, tzinfo=UTC)  # 1688671200
    bars = kraken(adapter).history("BTC-USD", "1m", start, start + timedelta(minutes=3), Known("24/7", NOW, None))
    assert [(b.start - start, str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume)) for b in bars] == [
        (timedelta(0), "30306.10", "30306.20", "30305.70", "30305.70", "3.39243896"),
        (timedelta(minutes=1), "30304.50", "30304.50", "30300.00", "30300.00", "4.42996871"),
        (timedelta(minutes=2), "30300.30", "30300.40", "30291.40", "30291.40", "2.13024789"),
    ]  # the fourth bar would end past the chunk
    assert adapter.asked[-1].startswith("OHLC?pair=XXBTZUSD")


def test_an_exchange_search_offers_its_pairs_as_yahoo_names_them_by_code_or_coin_name():
    source = kraken()
    assert source.search("bitcoin", 5) == [
        Match("BTC-EUR", "Bitcoin", "Kraken", "CRYPTOCURRENCY"),
        Match("BTC-USD", "Bitcoin USD", "Kraken", "CRYPTOCURRENCY"),
    ]
    assert [m.symbol for m in source.search("doge", 5)] == ["DOGE-USD"]  # Kraken's XDG, as ccxt names it
    assert [m.symbol for m in source.search("eth", 5)] == ["ETH-USD"]  # no ETH/EUR market: not offered
    assert source.search("apple", 5) == []


def test_the_simulator_searches_the_names_it_knows():
    source = SimulatedSource(seed=0, interval_seconds=2)
    assert source.search("apple", 3) == [Match("AAPL", "Apple Inc.", "simulated", "EQUITY")]
    assert [m.symbol for m in source.search("bit", 3)] == ["BTC-USD"]
    assert [m.symbol for m in source.search("AAP", 3)] == ["AAPL"]  # a code's beginning
    assert [m.symbol for m in source.search("s&p", 3)] == ["^GSPC", "SPY"]
    assert source.search("   ", 3) == []
