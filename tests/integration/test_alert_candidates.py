"""The alert check reads only candidate alerts (index range scans on the batch's bounds): it must
fire and re-arm exactly what running every active alert through ``rules.evaluate`` would, with
reference prices worked out here from every stored tick and indicator values from the chart's
series over the stored candles."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text

from app.alerting.alerts import _GATE, _state, cancel_alert, check_ticks
from app.alerting.rules import Observation, evaluate
from app.extensions import db
from app.market import indicators
from app.market.indicators import Spec
from app.market.partitions import ensure_partitions
from app.market.prices import store_ticks
from app.market.ticks import Tick
from app.models import Alert, Candle1m
from app.models import Tick as StoredTick
from app.sql_arrays import literal
from tests.integration.helpers import make_alert

SYMBOLS = ("BTC-USD", "ETH-USD", "DOGE-USD")
# BTC's alerts use four windows, ETH's two, DOGE's one (the tightest bounds: no other window's move)
WINDOWS = {"BTC-USD": ("5m", "15m", "1h", "2h"), "ETH-USD": ("15m", "1h"), "DOGE-USD": ("1h",)}


def reference(history: list[tuple[datetime, Decimal]], observed: datetime, window: int) -> Decimal | None:
    """The last stored price at or before ``window`` ago, else the oldest one since: rules.py's words."""
    start = observed - timedelta(seconds=window)
    before = [price for at, price in history if at <= start]
    if before:
        return before[-1]
    since = [price for at, price in history if start < at < observed]
    return since[0] if since else None


def indicator_value(alert: Alert, tick: Tick) -> Decimal | None:
    """The chart's series (indicators.compute) over the finished minute candles and the tick's price."""
    bucket = tick.observed_at.replace(second=0, microsecond=0)
    closes = db.session.scalars(
        select(Candle1m.close).where(Candle1m.symbol == tick.symbol, Candle1m.bucket < bucket).order_by(Candle1m.bucket)
    )
    value = indicators.compute(Spec(alert.indicator, alert.period), [*map(float, closes), float(tick.price)])[-1]
    return None if value is None else Decimal(repr(value))


def expected(batch: list[Tick]) -> tuple[set[int], dict[int, bool]]:
    """What every active alert would do with the batch: the ids that fire, each alert's armed after."""
    stored: dict[str, list[tuple[datetime, Decimal]]] = {s: [] for s in SYMBOLS}
    for row in db.session.scalars(select(StoredTick).order_by(StoredTick.observed_at)):
        stored[row.symbol].append((row.observed_at, row.price))
    fires, armed = set(), {}
    for alert in db.session.scalars(select(Alert).where(Alert.status == "active")):

        def known(t: Tick, alert: Alert = alert) -> Decimal | None:
            if alert.rule == "change":
                return reference(stored[t.symbol], t.observed_at, alert.window_seconds)
            return indicator_value(alert, t) if alert.rule in ("cross", "rsi") else None

        observations = [
            Observation(t.price, t.observed_at, t.received_at, known(t)) for t in batch if t.symbol == alert.symbol
        ]
        outcome = evaluate(_state(alert), observations)
        armed[alert.id] = alert.armed if outcome is None else outcome.armed
        if outcome is not None and outcome.fire is not None:
            fires.add(alert.id)
    return fires, armed


def checked_as_every_alert_would(batch: list[Tick]) -> set[int]:
    """Check the batch; the fires and the armed states after must be every alert's own."""
    fires, armed = expected(batch)
    got = {a["id"] for a in check_ticks(batch).fired}
    after = {a.id: a.armed for a in db.session.scalars(select(Alert).execution_options(populate_existing=True))}
    assert got == fires
    assert {i: after[i] for i in armed} == armed
    return got


def walk(
    rng: random.Random, prices: dict[str, Decimal], step: float, batches: int = 40, start: datetime | None = None
) -> tuple[int, int, int]:
    """Random-walk batches (0 to 2 ticks a symbol, 2 s apart, moves up to ``step``) checked and
    then stored, as the pipeline does (the next batch's references may be these): how many fires,
    re-arms, and symbols the gate passed by. From ``start`` (received now on), a batch that would
    reach into the next minute is checked as two: each minute's candles are settled before the
    next minute's first check, as the live pipeline has them."""
    fired, rearmed, passed_by = 0, 0, 0
    moment = start or datetime.now(UTC)
    late = datetime.now(UTC) - moment  # observed this long before they are received
    for _ in range(batches):
        batch = []
        for symbol in SYMBOLS:
            for _ in range(rng.randint(0, 2)):
                moment += timedelta(seconds=2)
                prices[symbol] *= Decimal(1 + rng.uniform(-step, step)).quantize(Decimal("0.00001"))
                price = prices[symbol].quantize(Decimal("0.000001"))
                batch.append(Tick(symbol, price, moment, moment + late, "simulated"))
        if not batch:
            continue
        minutes = sorted({t.observed_at.replace(second=0, microsecond=0) for t in batch}) if start else [None]
        for minute in minutes:
            part = [t for t in batch if minute is None or t.observed_at.replace(second=0, microsecond=0) == minute]
            gate = {"symbols": literal(t.symbol for t in part), "prices": literal(t.price for t in part),
                    "observed": literal(t.observed_at for t in part), "gated": True}  # fmt: skip
            looked = {row.symbol for row in db.session.execute(_GATE, gate) if row.look}
            passed_by += len({t.symbol for t in part} - looked)
            before = {a.id: a.armed for a in db.session.scalars(select(Alert))}
            fired += len(checked_as_every_alert_would(part))
            after = {a.id: a.armed for a in db.session.scalars(select(Alert))}
            rearmed += sum(1 for i, armed in after.items() if armed and not before.get(i, True))
            store_ticks(part)
    return fired, rearmed, passed_by


def test_the_candidates_fire_and_rearm_exactly_what_every_alert_would(ctx):
    rng = random.Random(23)
    now = datetime.now(UTC)
    prices = {"BTC-USD": Decimal(100_000), "ETH-USD": Decimal(3_000), "DOGE-USD": Decimal("0.15")}
    history = []
    for minute in range(150, 0, -1):  # a price a minute for two and a half hours
        for symbol in SYMBOLS:
            prices[symbol] *= Decimal(1 + rng.uniform(-0.01, 0.01)).quantize(Decimal("0.00001"))
            history.append(
                Tick(
                    symbol,
                    prices[symbol].quantize(Decimal("0.000001")),
                    now - timedelta(minutes=minute),
                    now,
                    "simulated",
                )
            )  # noqa: E501
    store_ticks(history)
    made = []
    for n in range(60):
        symbol = SYMBOLS[n % 3]
        every = n % 2 == 0
        frequency = {"frequency": "every_time", "cooldown": 60} if every else {}
        if n % 4 == 3:
            rule = "above" if n % 8 == 3 else "below"
            level = prices[symbol] * Decimal(1 + rng.uniform(-0.03, 0.03))
            made.append(make_alert(symbol, rule, str(level.quantize(Decimal("0.0001"))), **frequency))
        else:
            window = rng.choice(WINDOWS[symbol])
            percent = Decimal(rng.uniform(0.2, 4)).quantize(Decimal("0.01"))
            direction = rng.choice(["up", "down", "either"])
            made.append(
                make_alert(symbol, "change", percent=str(percent), window=window, direction=direction, **frequency)
            )  # noqa: E501
    # indicator rules on minute candles: crosses of SMA and EMA (each way), RSI levels
    for n in range(24):
        symbol = SYMBOLS[n % 3]
        frequency = {"frequency": "every_time", "cooldown": 60} if n % 2 else {}
        fields = {"direction": "above" if n % 4 < 2 else "below", "timeframe": "1m", **frequency}
        if n % 3 == 2:  # a level of its own each: no two the same rule
            made.append(make_alert(symbol, "rsi", period=6, level=str(30 + 2 * n), **fields))
        else:
            indicator, period = ("sma", 5 + n) if n % 3 == 0 else ("ema", 4 + n)
            made.append(make_alert(symbol, "cross", indicator=indicator, period=period, **fields))
    # one cancelled: its window may stay in symbols.alert_windows, which costs a lookup, nothing else
    cancel_alert(made[1])

    fired_total, rearmed, _ = walk(rng, prices, step=0.025)
    # the walk crossed many rules both ways: the test saw fires and re-arms, not only quiet batches
    assert fired_total >= 15 and rearmed >= 5, (fired_total, rearmed)
    kinds = {rule for (rule,) in db.session.execute(select(Alert.rule).where(Alert.fire_count > 0))}
    assert kinds >= {"above", "below", "change", "cross", "rsi"}, kinds


# ETH-USD's minute candles at 100, and its ticks checked, in the minute before this one (settled)
_FLAT_MINUTE = text(
    "INSERT INTO candles_1m (symbol, bucket, open, high, low, close, first_at, last_at, ticks)"
    " VALUES ('ETH-USD', :b, 100, 100, 100, 100, :b, :b, 1)"
)


def settled_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)


def flat_before(bucket: datetime, *minutes: int) -> None:
    """A candle of 100 ``minutes`` before ``bucket``, each."""
    for back in minutes:
        db.session.execute(_FLAT_MINUTE, {"b": bucket - timedelta(minutes=back)})
    db.session.commit()


def fired_at(bucket: datetime, price: str, second: int) -> list[int]:
    tick = Tick("ETH-USD", Decimal(price), bucket + timedelta(seconds=second), datetime.now(UTC), "simulated")
    return [a["id"] for a in check_ticks([tick]).fired]


def test_an_indicator_whose_past_is_still_loading_is_read_again(ctx):
    """A symbol just added has its candles loaded by the backfill while its alerts are checked: a
    value made from too few candles must not stand for the rest of the bucket."""
    bucket = settled_minute()
    flat_before(bucket, 1)
    alert = make_alert("ETH-USD", "cross", direction="above", indicator="sma", period=3, timeframe="1m")
    assert fired_at(bucket, "99", 30) == []  # one finished candle of the two SMA(3) needs: no value yet
    flat_before(bucket, 2)  # the backfill brings the other
    assert fired_at(bucket, "99", 31) == []  # under SMA 99.67: armed
    assert fired_at(bucket, "101", 32) == [alert]  # over SMA 100.33: the crossing fires


def test_the_gate_passes_by_only_symbols_whose_indicators_no_price_of_the_batch_turns(ctx):
    """Cross and RSI alerts only, over minutes that have settled: each minute's first check records
    the symbols' indicator bands, and the gate passes later batches by while they stay inside. The
    check must still do exactly what every alert would, and the gate must have left some out."""
    rng = random.Random(31)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    prices = {"BTC-USD": Decimal(100_000), "ETH-USD": Decimal(3_000), "DOGE-USD": Decimal("0.15")}
    history = []
    for minute in range(120, 0, -1):  # a price a minute for two hours before the walk
        for symbol in SYMBOLS:
            prices[symbol] *= Decimal(1 + rng.uniform(-0.004, 0.004)).quantize(Decimal("0.00001"))
            at = start - timedelta(minutes=minute)
            history.append(Tick(symbol, prices[symbol].quantize(Decimal("0.000001")), at, at, "simulated"))
    store_ticks(history)
    every = {"frequency": "every_time", "cooldown": 60}
    for n, (indicator, period) in enumerate([("sma", 5), ("ema", 8), ("sma", 12), ("ema", 3)]):
        fields = {"timeframe": "1m", "direction": "above" if n % 2 else "below"} | (every if n < 2 else {})
        make_alert("BTC-USD", "cross", indicator=indicator, period=period, **fields)  # near: often looked at
    for symbol, period, levels in (("ETH-USD", 6, ("70", "30")), ("DOGE-USD", 14, ("85", "15"))):
        for direction, level in zip(("above", "below"), levels, strict=True):
            make_alert(symbol, "rsi", period=period, level=level, direction=direction, timeframe="1m", **every)
    make_alert("ETH-USD", "cross", indicator="sma", period=20, direction="above", timeframe="1m")

    fired_total, rearmed, passed_by = walk(rng, prices, step=0.003, batches=60, start=start)
    assert fired_total >= 5 and rearmed >= 2 and passed_by >= 20, (fired_total, rearmed, passed_by)


def test_an_indicator_alert_made_inside_the_bands_is_looked_at_at_once(ctx):
    """The bands a check recorded are for the alerts it saw: a new alert clears them (the trigger
    on alerts), or the gate would pass by the very next tick that fires it."""
    bucket = settled_minute()
    flat_before(bucket, 1, 2, 3)
    cross = make_alert("ETH-USD", "cross", direction="above", indicator="sma", period=3, timeframe="1m")
    assert fired_at(bucket, "99", 30) == []  # under SMA(3) 99.67: the cross is armed, its band recorded
    band = db.session.execute(text("SELECT indicator_up, indicator_down FROM symbols WHERE symbol = 'ETH-USD'")).one()
    # a hair under 100, the close equal to SMA(3) with it; no fall changes the armed cross
    assert Decimal("99.999") < band.indicator_up < Decimal(100) and band.indicator_down is None
    assert db.session.get(Alert, cross).armed
    rsi = make_alert("ETH-USD", "rsi", direction="below", level="40", period=2, timeframe="1m")
    assert fired_at(bucket, "99.5", 31) == [rsi]  # inside the old band; RSI(2) after flat closes and a fall: 0


def test_a_price_on_its_average_has_crossed_it(ctx):
    """At or below, at or above: a price equal to its SMA fires a cross either way (the check's
    own shortcuts must not take 'on it' for 'not yet')."""
    bucket = settled_minute()
    flat_before(bucket, 1, 2)
    below = make_alert("ETH-USD", "cross", direction="below", indicator="sma", period=3, timeframe="1m")
    assert fired_at(bucket, "101", 30) == []  # over SMA(3) 100.33: armed
    assert fired_at(bucket, "100", 31) == [below]  # SMA(3) of 100, 100 and 100: on it


def test_the_gate_passes_by_only_symbols_whose_change_alerts_no_reference_can_reach(ctx):
    """Symbols with change alerts only: the gate (alerts._GATE) leaves out a symbol when no stored
    price its windows may read is far enough from the batch's. Over days of history, with a symbol
    that stopped ticking for two days (its 1-day reference is the last price before the gap), the
    check must still do exactly what every alert would, and the gate must have left some out."""
    rng = random.Random(29)
    now = datetime.now(UTC)
    prices = {"BTC-USD": Decimal(100_000), "ETH-USD": Decimal(3_000), "DOGE-USD": Decimal("0.15")}
    ensure_partitions({(now - timedelta(days=d)).date() for d in range(5)})
    history = []
    for step in range(4 * 24 * 6, 0, -1):  # a price every 10 minutes for four days
        at = now - timedelta(minutes=10 * step)
        for symbol in SYMBOLS:
            if symbol == "DOGE-USD" and timedelta(hours=6) < now - at < timedelta(days=2, hours=6):
                continue  # DOGE-USD was not fetched for two days
            prices[symbol] *= Decimal(1 + rng.uniform(-0.001, 0.001)).quantize(Decimal("0.00001"))
            history.append(Tick(symbol, prices[symbol].quantize(Decimal("0.000001")), at, at, "simulated"))
    store_ticks(history)
    for n in range(45):
        symbol = SYMBOLS[n % 3]
        frequency = {"frequency": "every_time", "cooldown": 60} if n % 2 == 0 else {}
        if n % 3 == 2:  # price levels a few % away, each side: their bands too
            rule = "above" if n % 6 == 2 else "below"
            level = prices[symbol] * Decimal(1 + rng.uniform(0.005, 0.05) * (1 if rule == "above" else -1))
            make_alert(symbol, rule, str(level.quantize(Decimal("0.000001"))), **frequency)
            continue
        percent = Decimal(rng.uniform(1.5, 8)).quantize(Decimal("0.01"))
        window = rng.choice(["5m", "1h", "4h", "1d", "2d"])
        direction = rng.choice(["up", "down", "either"])
        make_alert(symbol, "change", percent=str(percent), window=window, direction=direction, **frequency)

    fired_total, rearmed, passed_by = walk(rng, prices, step=0.012)
    # the walk fired and re-armed alerts, and the gate left some symbols out (how many is up to
    # the day's hour: the exact cases are in the tests below)
    assert fired_total >= 5 and rearmed >= 2 and passed_by >= 1, (fired_total, rearmed, passed_by)


def flat(symbol: str, price: str, start: datetime, end: datetime, step: timedelta = timedelta(minutes=30)) -> None:
    """A stored price every ``step`` from ``start`` to ``end`` (candles folded in as the persist does)."""
    ensure_partitions({(start + timedelta(days=d)).date() for d in range((end - start).days + 2)})
    times = [start + n * step for n in range(int((end - start) / step) + 1)]
    store_ticks([Tick(symbol, Decimal(price), at, at, "simulated") for at in times])


def test_the_gate_reads_far_enough_back_and_the_smallest_percentage_and_the_disarmed(ctx):
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.replace(hour=0, minute=0, second=0)
    # BTC-USD: 80 five days ago, nothing for three days, then 100 from 06:15 two days ago on. The
    # window reaches 06:00 two days ago: its reference is the 80 (+25 %), although that day and
    # every day after it has ticks of 100 (a gate reading from the window's own day would pass it by).
    flat("BTC-USD", "80", today - timedelta(days=5), today - timedelta(days=5, hours=-1))
    flat("BTC-USD", "100", today - timedelta(days=2, hours=-6, minutes=-15), now - timedelta(minutes=1))
    # and a backfill's bar for the day before that day (a candle without raw ticks): it does not
    # make the 80 any less the reference
    bar = text(
        "INSERT INTO candles_1d (symbol, bucket, open, high, low, close, first_at, last_at, ticks)"
        " VALUES ('BTC-USD', :b, 100, 100, 100, 100, :b, :b, 0)"
    )
    db.session.execute(bar, {"b": today - timedelta(days=3)})
    db.session.commit()
    reach = now - (today - timedelta(days=2, hours=-6))
    gap = make_alert("BTC-USD", "change", percent="20", window=int(reach.total_seconds()), direction="up")
    # ETH-USD: flat 100; of 5 % and 15 % up within 1 h, a move of 6 % fires the first
    flat("ETH-USD", "100", today - timedelta(days=3), now - timedelta(minutes=1))
    small = make_alert("ETH-USD", "change", percent="5", window="1h", direction="up")
    make_alert("ETH-USD", "change", percent="15", window="1h", direction="up")
    # DOGE-USD: flat 100, one alert that fires, then waits to re-arm: any small move re-arms it
    flat("DOGE-USD", "100", today - timedelta(days=3), now - timedelta(minutes=1))
    disarmed = make_alert("DOGE-USD", "change", percent="3", window="1h", frequency="every_time", cooldown=60)
    jump = Tick("DOGE-USD", Decimal(104), now - timedelta(seconds=30), datetime.now(UTC), "simulated")
    assert checked_as_every_alert_would([jump]) == {disarmed}  # +4 %: fired, and waits to re-arm
    assert not db.session.get(Alert, disarmed).armed
    received = datetime.now(UTC)  # after the alerts were made: only such ticks count
    moved = (("BTC-USD", "100"), ("ETH-USD", "106"), ("DOGE-USD", "100.5"))
    batch = [Tick(symbol, Decimal(price), now, received, "simulated") for symbol, price in moved]
    assert checked_as_every_alert_would(batch) == {gap, small}
    assert db.session.get(Alert, disarmed).armed


def test_the_gate_counts_the_batch_own_prices_as_references(ctx):
    """A catch-up batch spans more than a window: its later tick's reference may be its earlier one,
    stored by the persist (racing the check) before its candle is there to read."""
    now = datetime.now(UTC).replace(microsecond=0)
    flat("BTC-USD", "100", now - timedelta(days=2), now - timedelta(minutes=10))
    alert = make_alert("BTC-USD", "change", percent="10", window="5m", direction="up")
    received = datetime.now(UTC)
    early, late = (
        Tick("BTC-USD", Decimal(p), now - timedelta(minutes=m), received, "simulated")
        for p, m in (("95", 7), ("104.9", 1))
    )
    store_ticks([early], candles=False)  # stored, not yet in any candle
    assert checked_as_every_alert_would([early, late]) == {alert}  # 104.9 against 95: +10.42 %


def test_a_late_price_on_a_day_the_row_keeps_clears_it(ctx):
    """The gate reads the days before yesterday from the range the symbol's row keeps: a price
    stored late on one of them (a catch-up, a backfill) must clear it (the trigger on candles_1d),
    or a reference it makes would be passed by."""
    now = datetime.now(UTC).replace(microsecond=0)
    flat("BTC-USD", "100", now - timedelta(days=3), now - timedelta(minutes=10))
    alert = make_alert("BTC-USD", "change", percent="10", window="2d", direction="up")
    kept = text("SELECT past_low, past_high, past_until FROM symbols WHERE symbol = 'BTC-USD'")

    def at(price: str, second: int) -> set[int]:
        tick = Tick("BTC-USD", Decimal(price), now + timedelta(seconds=second), datetime.now(UTC), "simulated")
        return checked_as_every_alert_would([tick])

    assert at("100.5", 0) == set()
    yesterday = now.replace(hour=0, minute=0, second=0) - timedelta(days=1)
    assert tuple(db.session.execute(kept).one()) == (Decimal(100), Decimal(100), yesterday)
    assert at("100.5", 1) == set()  # read with the kept range: passed by
    late = now + timedelta(seconds=2) - timedelta(days=2, seconds=1)  # the reference of the next tick
    store_ticks([Tick("BTC-USD", Decimal(90), late, datetime.now(UTC), "simulated")])
    assert db.session.execute(kept).one().past_until is None
    assert at("100.5", 2) == {alert}  # +11.7 % on the late 90


def test_the_range_a_row_keeps_bounds_the_moves(ctx):
    """ETH-USD was 90 until two days ago, 100 since: the 2-day reference is a 90 from a day the
    row keeps, not one the gate reads."""
    now = datetime.now(UTC).replace(microsecond=0)
    flat("ETH-USD", "90", now - timedelta(days=4), now - timedelta(days=2, minutes=-30))
    flat("ETH-USD", "100", now - timedelta(days=2, minutes=-40), now - timedelta(minutes=10))
    made = datetime.now(UTC)
    alert = make_alert("ETH-USD", "change", percent="10", window="2d", direction="up")
    before = Tick("ETH-USD", Decimal("100.5"), now, made - timedelta(minutes=1), "simulated")
    assert checked_as_every_alert_would([before]) == set()  # received before the alert: not for it
    assert db.session.execute(text("SELECT past_low FROM symbols WHERE symbol = 'ETH-USD'")).scalar() == 90
    after = Tick("ETH-USD", Decimal("100.5"), now + timedelta(seconds=1), datetime.now(UTC), "simulated")
    assert checked_as_every_alert_would([after]) == {alert}  # +11.7 % on the kept 90


def test_an_alert_written_by_hand_is_checked(ctx):
    """The gate trusts the symbol's row: the database keeps it for any writer of alerts (an
    import, psql), not only the API's create."""
    insert = text(
        "INSERT INTO alerts (symbol, rule, direction, threshold, frequency, cooldown_seconds, armed)"
        " VALUES ('BTC-USD', 'above', 'above', 100, 'once', 0, true) RETURNING id"
    )
    alert = db.session.execute(insert).scalar_one()
    db.session.commit()
    row = text("SELECT alert_rules, fires_above FROM symbols WHERE symbol = 'BTC-USD'")
    assert tuple(db.session.execute(row).one()) == (["above"], Decimal(100))
    tick = Tick("BTC-USD", Decimal(101), datetime.now(UTC), datetime.now(UTC), "simulated")
    assert checked_as_every_alert_would([tick]) == {alert}
    assert tuple(db.session.execute(row).one()) == ([], None)  # fired once: nothing left to look for


def test_the_gate_follows_the_bands_a_check_moves(ctx):
    """A fire disarms, a move back re-arms: the check that does either records the symbol's new
    bands, and the next batch is looked at where they now are."""
    now = datetime.now(UTC).replace(microsecond=0)
    flat("BTC-USD", "100", now - timedelta(days=2), now - timedelta(minutes=10))
    every = {"frequency": "every_time", "cooldown": 60}
    up, down = make_alert("BTC-USD", "above", "105", **every), make_alert("BTC-USD", "below", "95", **every)

    def at(price: str, second: int) -> set[int]:
        tick = Tick("BTC-USD", Decimal(price), now + timedelta(seconds=second), datetime.now(UTC), "simulated")
        return checked_as_every_alert_would([tick])

    assert at("94", 0) == {down}  # fired: disarmed until the price is back above 95
    assert at("96", 1) == set()  # back above: re-armed
    assert db.session.get(Alert, down).armed
    assert at("106", 2) == {up}
    assert at("104", 3) == set()  # back below 105: re-armed
    assert db.session.get(Alert, up).armed
    bands = db.session.execute(text("SELECT fires_above, fires_below, rearms_above, rearms_below FROM symbols"
                                    " WHERE symbol = 'BTC-USD'")).one()  # fmt: skip
    assert tuple(bands) == (Decimal(105), Decimal(95), None, None)
