from app.market.sources import select_source
from app.market.sources.simulated import MemoryWalkState, SimulatedSource
from app.market.sources.yahoo import YahooSource

OPTIONS = {
    "seed": 1,
    "interval_seconds": 2,
    "yfinance_timeout": 5,
    "simulator_state": MemoryWalkState(),
    "last_known": lambda symbols: {},
    "probe_symbols": ["BTC-USD"],
}


def test_a_named_source_is_used_without_probing():
    def no_probe(probe):
        raise AssertionError("a named source must not probe Yahoo")

    assert isinstance(select_source("simulated", **OPTIONS, decide_once=no_probe), SimulatedSource)
    yahoo = select_source("yfinance", **OPTIONS, decide_once=no_probe)
    assert isinstance(yahoo, YahooSource) and yahoo.timeout == 5


def test_auto_takes_the_shared_decision():
    assert isinstance(select_source("auto", **OPTIONS, decide_once=lambda probe: "simulated"), SimulatedSource)
    assert isinstance(select_source("auto", **OPTIONS, decide_once=lambda probe: "yfinance"), YahooSource)
