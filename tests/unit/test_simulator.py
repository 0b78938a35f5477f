from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.market.sources import Listing, round_price
from app.market.sources.simulated import MemoryWalkState, SimulatedSource, next_price, start_price

T0 = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
SYMBOLS = ["BTC-USD", "ETH-USD", "DOGE-USD"]


def walk(seed: int, steps: int, state: MemoryWalkState | None = None) -> list[list[Decimal]]:
    source = SimulatedSource(seed=seed, interval_seconds=2, state=state)
    return [[q.price for q in source.fetch(SYMBOLS, T0 + timedelta(seconds=2 * i))] for i in range(steps)]


def test_starts_near_realistic_prices():
    first = walk(seed=1, steps=1)[0]
    for price, start in zip(first, [Decimal(95000), Decimal(3500), Decimal("0.16")], strict=True):
        assert abs(price / start - 1) < Decimal("0.01")


def test_same_seed_same_walk_other_seed_other_walk():
    assert walk(seed=7, steps=50) == walk(seed=7, steps=50)
    assert walk(seed=7, steps=50) != walk(seed=8, steps=50)


def test_prices_move_every_step_and_stay_plausible():
    series = walk(seed=3, steps=2000)
    btc = [row[0] for row in series]
    assert len(set(btc)) > 1900  # it moves
    assert all(Decimal(50000) < p < Decimal(180000) for p in btc)  # a day of 2 s steps stays believable
    doge = [row[2] for row in series]
    assert all(p > 0 for p in doge)


def test_prices_keep_digits_for_their_magnitude():
    btc, eth, doge = walk(seed=1, steps=1)[0]
    assert -btc.as_tuple().exponent == 2
    assert -eth.as_tuple().exponent == 3
    assert -doge.as_tuple().exponent == 7


def test_a_second_fetch_in_the_same_slot_repeats_the_tick():
    state = MemoryWalkState()
    source = SimulatedSource(seed=5, interval_seconds=2, state=state)
    first = source.fetch(SYMBOLS, T0 + timedelta(seconds=0.2))
    again = source.fetch(SYMBOLS, T0 + timedelta(seconds=1.9))
    later = source.fetch(SYMBOLS, T0 + timedelta(seconds=2.1))
    assert first == again
    assert all(q.observed_at == T0 for q in first)
    assert all(q.observed_at == T0 + timedelta(seconds=2) for q in later)
    assert [q.price for q in later] != [q.price for q in first]


def test_the_walk_continues_from_shared_state():
    state = MemoryWalkState()
    one_process = walk(seed=9, steps=4, state=state)
    # A second process (other source object, same state) carries on from where the first stopped.
    other = SimulatedSource(seed=9, interval_seconds=2, state=state)
    fifth = [q.price for q in other.fetch(SYMBOLS, T0 + timedelta(seconds=8))]
    assert fifth == [
        next_price(9, s, int(T0.timestamp() / 2) + 4, p) for s, p in zip(SYMBOLS, one_process[-1], strict=True)
    ]


def test_unknown_symbols_get_a_stable_start_price():
    assert start_price("ZZZZ") == start_price("ZZZZ")
    assert Decimal(10) <= start_price("ZZZZ") < Decimal(510)


def test_round_price_keeps_seven_significant_digits():
    assert round_price(97123.456789) == Decimal("97123.46")
    assert round_price(0.16234567891) == Decimal("0.1623457")
    assert round_price(1.5) == Decimal("1.500000")


def test_a_symbol_without_state_continues_from_its_last_stored_price():
    asked: list[list[str]] = []

    def last_known(symbols):
        asked.append(list(symbols))
        return {"BTC-USD": Decimal("93603.12")}

    state = MemoryWalkState({"ETH-USD": "1:3500.00"})  # Redis kept ETH's walk; BTC's and DOGE's were lost
    source = SimulatedSource(seed=1, interval_seconds=2, state=state, last_known=last_known)
    btc, eth, doge = (q.price for q in source.fetch(SYMBOLS, T0))
    assert asked == [["BTC-USD", "DOGE-USD"]]  # one lookup, only for what Redis lost
    assert abs(btc / Decimal("93603.12") - 1) < Decimal("0.005")  # a step from the stored price, no jump
    assert abs(eth / Decimal("3500") - 1) < Decimal("0.005")
    assert abs(doge / start_price("DOGE-USD") - 1) < Decimal("0.01")  # nothing stored: the start price
    source.fetch(SYMBOLS, T0 + timedelta(seconds=2))
    assert len(asked) == 1  # the walk is in the state now


def test_any_symbol_is_accepted_pairs_as_crypto_in_their_quote_currency_stocks_in_usd():
    source = SimulatedSource(seed=1, interval_seconds=2)
    assert source.describe("BTC-USD") == Listing("BTC-USD", "Bitcoin USD", "USD", "simulated", "CRYPTOCURRENCY", "24/7")
    assert source.describe("ETH-EUR") == Listing("ETH-EUR", None, "EUR", "simulated", "CRYPTOCURRENCY", "24/7")
    assert source.describe("AAPL") == Listing("AAPL", "Apple Inc.", "USD", "simulated", "EQUITY", "XNYS", 2)  # NY hours
    assert source.describe("ZZZZ") == Listing("ZZZZ", None, "USD", "simulated", "EQUITY", "XNYS", 2)  # unnamed


def test_currency_pairs_and_indices_are_simulated_as_what_they_are():
    """EURUSD=X was a 480 USD stock with New York's hours, ^GSPC 442 (issue 20)."""
    source = SimulatedSource(seed=1, interval_seconds=2)
    assert source.describe("EURUSD=X") == Listing("EURUSD=X", "EUR/USD", "USD", "simulated", "CURRENCY", "24/5", 4)
    assert source.describe("JPY=X") == Listing("JPY=X", "USD/JPY", "JPY", "simulated", "CURRENCY", "24/5", 3)
    assert source.describe("^GSPC") == Listing("^GSPC", "S&P 500", "USD", "simulated", "INDEX", "XNYS", 2)
    assert source.describe("^FTSE").calendar == "XLON"
    assert (start_price("EURUSD=X"), start_price("^GSPC")) == (Decimal("1.08"), Decimal("6000"))
    assert Decimal(1) <= start_price("NZDCAD=X") < Decimal(2)  # an unknown pair: a pair's level
    assert Decimal(1000) <= start_price("^XYZ") < Decimal(20000)  # an unknown index: an index's level
    assert Decimal(10) <= start_price("ZZZZ") < Decimal(510)
