"""Price alerts: create, cancel, list, expire, and check a batch of ticks against them.

The check is four steps: the gate (``_GATE``: which of the batch's symbols can change any alert
at all), one query for the candidate alerts of those symbols (and the reference prices of
``change`` rules), and one for the indicator rules' (``indicator_rules``, with each tick's
SMA/EMA/RSI), the rules in plain Python (``app.alerting.rules``), then ONE statement that applies
every state change, records each fire as an event and queues one delivery per channel (the
gate's bands of the symbols it changed follow in the same transaction). That statement only
updates an alert whose ``version`` is still the one the check read, so two checks racing on the
same ticks fire each occurrence exactly once: the second UPDATE re-reads the row after the first
commits, sees a new version and skips it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from app.alerting import holding_rules, indicator_rules, portfolio_rules, symbol_locks
from app.alerting.channels import channel_health, check_channel_ids
from app.alerting.holding_rules import CHECKED_NOW
from app.alerting.rules import HOLDING_RULES, AlertState, Observation, Outcome, describe_alert, describe_named, evaluate
from app.extensions import db
from app.market.candles import ORIGIN
from app.market.ticks import Tick
from app.models import ALERT_IDENTITY, Alert, AlertChannel, AlertEvent, Channel, Delivery
from app.pipeline import progress
from app.pipeline.progress import Span
from app.sql_arrays import literal
from app.web.errors import CONFLICT, ApiError
from app.web.validation import AlertSpec

# Candidates only: each branch is one range scan of a partial index per batch symbol, so the work
# follows the batch's symbols and the alerts it can change, not the number of active alerts. An
# armed rule can fire only if the batch reaches it; a disarmed one (every_time, after a fire) can
# only re-arm if the batch leaves it.
# - above / below: ix_alerts_active_check (symbol, rule, armed, threshold) against the batch's
#   high and low per symbol.
# - change: the batch's moves per symbol (every tick against the reference of every window the
#   symbol's change alerts use): ix_alerts_armed_change (symbol, percent) for the
#   armed ones its largest move reaches, ix_alerts_disarmed_change (symbol, direction, percent)
#   for the disarmed ones it can re-arm. A window's move may pass another window's alert: it is a
#   candidate only, ``rules.evaluate`` decides.
LIMIT_LOCK = 0x5354_414C  # pg_advisory_xact_lock key of the alert limits ('STAL')

# Where the daily candles a check reads stop being kept in the symbols' rows (``_KEEP_PAST``): the
# gate and the keeping must agree on it, as the trigger of migration 0024 does.
YESTERDAY = f"date_bin('1 day', statement_timestamp(), {ORIGIN}) - interval '1 day'"

# The batch symbols the check must look at: those with active alerts (``symbols.alert_rules``)
# whose prices go where one of them can change. With only above / below / change / cross / RSI
# alerts, a symbol is passed by when its batch stays inside the bands its row keeps (lowest armed
# above threshold, highest armed below, the disarmed ones' re-arming sides, smallest armed change
# %; set by the database after any statement that writes alerts, migration 0025: a pause leaves
# them wider, a look, never a miss), inside its indicator bands for the candles they were made on
# (``indicator_rules.record_bands``; none yet: looked at) and, with change alerts, when no
# reference price can move it that far. A reference is a stored price: the last at or before
# ``window`` before a tick, or with less history the oldest since, so on a day from its cut on
# (the day before the day of the symbol's first tick less its longest window) if the cut day had
# raw ticks (older ones are then never the last before). The daily candles hold every stored
# price of their day (the persist folds each tick in as it stores it): their lowest and highest
# bound every move (the batch's lowest counts as a reference too: a catch-up batch's later tick
# may be measured from its earlier one, stored by the persist before its candle is read). The
# days before yesterday come from the range the symbol's row keeps for its cut (``_KEEP_PAST``,
# cleared by a trigger when one of them is written), so a batch reads one or two candles a
# symbol, not a week of them. Without candles (``gated`` false: CANDLES=off) every alerted
# symbol is looked at.
_GATE = text(
    f"""
    WITH b AS (
        SELECT symbol, max(price) AS high, min(price) AS low, min(observed_at) AS first, max(observed_at) AS last
        FROM unnest(CAST(:symbols AS text[]), CAST(:prices AS numeric[]), CAST(:observed AS timestamptz[]))
             AS t(symbol, price, observed_at)
        GROUP BY symbol
    ),
    banded AS (
        SELECT b.*, s.fires_moved, s.past_low, s.past_high, s.past_cut, s.past_until, s.past_ticked,
               date_bin('1 day', b.first - s.alert_windows[cardinality(s.alert_windows)] * interval '1 second',
                        {ORIGIN}) - interval '1 day' AS cut,
               {YESTERDAY} AS yesterday,
               (NOT :gated OR NOT s.alert_rules <@ '{{above,below,change,cross,rsi}}' OR s.rearms_change
                OR b.high >= s.fires_above OR b.low <= s.fires_below
                OR b.low < s.rearms_below OR b.high > s.rearms_above
                OR (s.fires_moved IS NOT NULL AND cardinality(s.alert_windows) = 0)
                OR (s.indicator_levels <> '{{}}'
                    AND (s.indicator_from IS NULL OR b.first < s.indicator_from OR b.last >= s.indicator_until
                         OR b.high >= s.indicator_up OR b.low <= s.indicator_down))) IS TRUE AS look
        FROM b JOIN symbols s ON s.symbol = b.symbol
        WHERE s.alert_rules <> '{{}}'
    ),
    -- the symbols whose change alerts decide: each one's cut, whether its row keeps the range of
    -- the days from it to yesterday, and so from which day on its candles are read
    moved AS (
        SELECT m.*, CASE WHEN m.kept THEN m.yesterday ELSE m.cut END AS since
        FROM (
            SELECT m.*, coalesce(m.cut < m.yesterday AND m.past_cut = m.cut AND m.past_until = m.yesterday,
                                 false) AS kept
            FROM banded m WHERE NOT m.look AND m.fires_moved IS NOT NULL
        ) m
    ),
    -- one index scan for all, from the earliest day any of them reads (once: with the symbols'
    -- statistics behind, as after many alerts were made at once, the planner re-ran it per symbol)
    read AS MATERIALIZED (
        SELECT c.symbol, min(c.low) AS lo, max(c.high) AS hi, bool_or(c.bucket = m.cut AND c.ticks > 0) AS ticked
        FROM candles_1d c JOIN moved m ON m.symbol = c.symbol AND c.bucket >= m.since
        WHERE c.symbol = ANY(ARRAY(SELECT symbol FROM moved)) AND c.bucket >= (SELECT min(since) FROM moved)
        GROUP BY c.symbol
    )
    -- look: the check must look at the symbol; keep: the cut whose range its row should keep
    SELECT symbol, true AS look, CAST(NULL AS timestamptz) AS keep FROM banded WHERE look
    UNION ALL
    SELECT * FROM (
        SELECT m.symbol, NOT coalesce(
            k.ticked AND greatest((m.high - least(k.lo, m.low)) / least(k.lo, m.low), (k.hi - m.low) / k.hi) * 100
                         + 1e-9 < m.fires_moved,
            false) AS look,
            CASE WHEN NOT m.kept AND m.cut < m.yesterday THEN m.cut END AS keep
        FROM moved m LEFT JOIN read r ON r.symbol = m.symbol
        CROSS JOIN LATERAL (
            SELECT least(r.lo, CASE WHEN m.kept THEN m.past_low END) AS lo,
                   greatest(r.hi, CASE WHEN m.kept THEN m.past_high END) AS hi,
                   CASE WHEN m.kept THEN m.past_ticked ELSE r.ticked END AS ticked
        ) k
    ) m
    WHERE look OR keep IS NOT NULL
    """  # noqa: S608 - ORIGIN is a constant
)
# The range of each symbol's daily candles from its cut to yesterday, kept in its row for the gate.
_KEEP_PAST = text(
    f"""
    UPDATE symbols s SET past_low = r.lo, past_high = r.hi, past_ticked = r.ticked, past_cut = k.cut,
                         past_until = y.day
    FROM unnest(CAST(:symbols AS text[]), CAST(:cuts AS timestamptz[])) AS k(symbol, cut)
    CROSS JOIN (SELECT {YESTERDAY} AS day) y
    CROSS JOIN LATERAL (
        SELECT min(c.low) AS lo, max(c.high) AS hi, coalesce(bool_or(c.bucket = k.cut AND c.ticks > 0), false) AS ticked
        FROM candles_1d c WHERE c.symbol = k.symbol AND c.bucket >= k.cut AND c.bucket < y.day
    ) r
    WHERE s.symbol = k.symbol AND k.cut < y.day
    """  # noqa: S608 - ORIGIN is a constant
)
_CANDIDATES = text(
    f"""
    WITH batch AS (
        SELECT * FROM unnest(CAST(:symbols AS text[]), CAST(:prices AS numeric[]),
                             CAST(:observed AS timestamptz[])) AS b(symbol, price, observed_at)
    ),
    prices AS (SELECT symbol, max(price) AS high, min(price) AS low FROM batch GROUP BY symbol),
    -- each tick against each window its symbol's change alerts use (symbols.alert_windows): the
    -- price ``window`` before it, the last stored one at or before then, or with less history than
    -- that, the oldest one since (one index probe on ticks (symbol, observed_at) each)
    refs AS (
        SELECT b.symbol, w.window_seconds, b.observed_at, b.price, coalesce(
            (SELECT t.price FROM ticks t
             WHERE t.symbol = b.symbol AND t.observed_at <= b.observed_at - make_interval(secs => w.window_seconds)
             ORDER BY t.observed_at DESC LIMIT 1),
            (SELECT t.price FROM ticks t
             WHERE t.symbol = b.symbol AND t.observed_at > b.observed_at - make_interval(secs => w.window_seconds)
               AND t.observed_at < b.observed_at
             ORDER BY t.observed_at LIMIT 1)) AS reference
        FROM batch b
        JOIN symbols s ON s.symbol = b.symbol
        CROSS JOIN LATERAL unnest(s.alert_windows) AS w(window_seconds)
    ),
    -- per symbol, over its ticks and windows, in %: the largest |move| (armed alerts it reaches)
    -- and the smallest move, -move and |move| (disarmed ones it re-arms); a tick without history is
    -- no move, as rules.holds has it. In float8 (numeric division is most of this step's cost):
    -- the margin keeps its rounding on the side of more candidates; rules.evaluate decides exactly.
    moves AS (
        SELECT symbol, CAST(max(abs(move)) + 1e-6 AS numeric) AS largest, CAST(min(move) - 1e-6 AS numeric) AS up,
               CAST(-max(move) - 1e-6 AS numeric) AS down, CAST(min(abs(move)) - 1e-6 AS numeric) AS either
        FROM (SELECT symbol, coalesce((CAST(price AS float8) / CAST(reference AS float8) - 1) * 100, 0) AS move
              FROM refs) m
        GROUP BY symbol
    ),
    candidates AS (
        SELECT a.* FROM prices b CROSS JOIN LATERAL (
            SELECT * FROM alerts a WHERE a.status = 'active' AND a.symbol = b.symbol
                AND a.rule = 'above' AND a.armed AND a.threshold <= b.high
            UNION ALL
            SELECT * FROM alerts a WHERE a.status = 'active' AND a.symbol = b.symbol
                AND a.rule = 'above' AND NOT a.armed AND a.threshold > b.low
            UNION ALL
            SELECT * FROM alerts a WHERE a.status = 'active' AND a.symbol = b.symbol
                AND a.rule = 'below' AND a.armed AND a.threshold >= b.low
            UNION ALL
            SELECT * FROM alerts a WHERE a.status = 'active' AND a.symbol = b.symbol
                AND a.rule = 'below' AND NOT a.armed AND a.threshold < b.high
        ) a
        UNION ALL
        SELECT a.* FROM moves m CROSS JOIN LATERAL (
            SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule = 'change' AND a.armed
                AND a.symbol = m.symbol AND a.change_percent <= m.largest
            UNION ALL
            SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule = 'change' AND NOT a.armed
                AND a.symbol = m.symbol AND a.direction = 'up' AND a.change_percent > m.up
            UNION ALL
            SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule = 'change' AND NOT a.armed
                AND a.symbol = m.symbol AND a.direction = 'down' AND a.change_percent > m.down
            UNION ALL
            SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule = 'change' AND NOT a.armed
                AND a.symbol = m.symbol AND a.direction = 'either' AND a.change_percent > m.either
        ) a
    ),
    -- the references the candidates' rules.evaluate needs: only their (symbol, window)s
    wanted AS (
        SELECT r.symbol, r.window_seconds, array_agg(r.observed_at) AS ref_times,
               array_agg(r.reference) AS ref_prices
        FROM refs r
        WHERE (r.symbol, r.window_seconds) IN (SELECT symbol, window_seconds FROM candidates WHERE rule = 'change')
        GROUP BY r.symbol, r.window_seconds
    )
    SELECT a.id, a.version, a.symbol, a.rule, a.direction, a.threshold, a.change_percent,
           a.window_seconds, a.frequency, a.cooldown_seconds, a.armed, a.created_at, a.triggered_at,
           a.level, w.ref_times, w.ref_prices
    FROM candidates a
    LEFT JOIN wanted w ON w.symbol = a.symbol AND w.window_seconds = a.window_seconds
    WHERE {CHECKED_NOW}
    """  # noqa: S608 - a constant
)

# One delivery per enabled channel of each alert in ``events`` (a CTE of event ids and alert ids).
QUEUE_DELIVERIES = """
        INSERT INTO deliveries (event_id, channel_id, channel_name, enqueued_at)
        SELECT e.id, ch.id, ch.name, statement_timestamp()
        FROM events e
        JOIN alert_channels ac ON ac.alert_id = e.alert_id
        JOIN channels ch ON ch.id = ac.channel_id AND ch.enabled
        RETURNING id, event_id"""

_APPLY = text(
    f"""
    WITH changes AS (
        SELECT * FROM unnest(CAST(:ids AS int[]), CAST(:versions AS int[]), CAST(:fire AS boolean[]),
                             CAST(:prices AS numeric[]), CAST(:refs AS numeric[]),
                             CAST(:observed AS timestamptz[]), CAST(:armed AS boolean[]), CAST(:details AS text[]))
                      AS c(id, version, fire, price, reference, observed_at, armed, detail)
    ),
    updated AS (
        UPDATE alerts a SET
            version = a.version + 1,
            armed = c.armed,
            status = CASE WHEN c.fire AND a.frequency = 'once' THEN 'triggered' ELSE a.status END,
            triggered_at = CASE WHEN c.fire THEN statement_timestamp() ELSE a.triggered_at END,
            triggered_price = CASE WHEN c.fire THEN c.price ELSE a.triggered_price END,
            fire_count = a.fire_count + CASE WHEN c.fire THEN 1 ELSE 0 END
        FROM changes c
        WHERE a.id = c.id AND a.version = c.version AND a.status = 'active'
        RETURNING a.id, a.triggered_price, c.fire, c.reference, c.observed_at AS fired_observed_at, c.detail
    ),
    events AS (
        INSERT INTO alert_events (alert_id, price, reference_price, observed_at, detail)
        SELECT id, triggered_price, reference, fired_observed_at, detail FROM updated WHERE fire
        RETURNING id, alert_id
    ),
    queued AS ({QUEUE_DELIVERIES}),
    per_event AS (SELECT event_id, array_agg(id ORDER BY id) AS ids FROM queued GROUP BY event_id)
    -- no join with `updated` here: the planner takes CTEs for one row each and would nest-loop
    -- 10,000 x 10,000; the fired alerts are read back by id in the same transaction instead
    SELECT e.alert_id, e.id AS event_id, coalesce(p.ids, '{{}}') AS delivery_ids
    FROM events e
    LEFT JOIN per_event p ON p.event_id = e.id
    """  # noqa: S608 - QUEUE_DELIVERIES is a constant above
)


@dataclass(frozen=True)
class CheckResult:
    fired: list[dict[str, Any]]  # alert_json of each alert that fired (with its event id) or expired
    deliveries: list[int]  # delivery ids to send, one per fired alert and channel


def alert_json(alert: Any) -> dict[str, Any]:
    """An alert row (model or result row) as the API and the relay show it. ``checked``: whether
    the alert check looks at it now (active, neither paused nor snoozed)."""
    snoozed = alert.snoozed_until is not None and alert.snoozed_until > datetime.now(UTC)
    return {
        "id": alert.id,
        "symbol": alert.symbol,
        "rule": alert.rule,
        "direction": alert.direction,
        "threshold": None if alert.threshold is None else float(alert.threshold),
        "percent": None if alert.change_percent is None else float(alert.change_percent),
        "window": alert.window_seconds,
        "indicator": alert.indicator,
        "period": alert.period,
        "timeframe": alert.timeframe,
        "level": None if alert.level is None else float(alert.level),
        "at": None if alert.daily_at is None else f"{alert.daily_at:%H:%M}",
        "timezone": alert.timezone,
        "currency": alert.currency,
        "condition": describe_alert(alert),
        "frequency": alert.frequency,
        "cooldown": alert.cooldown_seconds if alert.frequency == "every_time" else None,
        "expires_at": alert.expires_at.isoformat() if alert.expires_at else None,
        "note": alert.note,
        "status": alert.status,
        "fire_count": alert.fire_count,
        "created_at": alert.created_at.isoformat(),
        "triggered_at": alert.triggered_at.isoformat() if alert.triggered_at else None,
        "triggered_price": None if alert.triggered_price is None else float(alert.triggered_price),
        "paused_at": alert.paused_at.isoformat() if alert.paused_at else None,
        "snoozed_until": alert.snoozed_until.isoformat() if snoozed else None,
        "checked": alert.status == "active" and alert.paused_at is None and not snoozed,
    }


def _state(row: Any) -> AlertState:
    return AlertState(
        id=row.id,
        version=row.version,
        rule=row.rule,
        direction=row.direction,
        threshold=row.threshold,
        change_percent=row.change_percent,
        window_seconds=row.window_seconds,
        frequency=row.frequency,
        cooldown_seconds=row.cooldown_seconds,
        armed=row.armed,
        created_at=row.created_at,
        triggered_at=row.triggered_at,
        level=row.level,
    )


def check_ticks(ticks: Sequence[Tick], spans: Sequence[Span] = ()) -> CheckResult:
    """Fire every active alert the ticks satisfy; record events and queue their deliveries; record
    ``spans`` (the Kafka records the ticks came from) as checked, all in one transaction."""
    result = _check(ticks)
    progress.record("alerts", spans, durable=bool(result.fired))
    db.session.commit()
    return result


def _check(ticks: Sequence[Tick]) -> CheckResult:
    """Apply the ticks to the alerts they can change, without committing."""
    if not ticks:
        return CheckResult([], [])
    on_portfolio = portfolio_rules.totals(ticks, datetime.now(UTC))
    changes = [(row, outcome) for row, obs in on_portfolio if (outcome := evaluate(_state(row), [obs])) is not None]
    gate = db.session.execute(_GATE, _arrays(ticks) | {"gated": current_app.config["SETTINGS"].candles}).all()
    looks = {r.symbol for r in gate if r.look}
    on_symbols, with_indicators = _symbol_changes([t for t in ticks if t.symbol in looks])
    result = apply_changes([*changes, *on_symbols])  # the symbols' lookups follow (migration 0025)
    # after the apply: the rows its trigger locked are held, the others are only taken if free
    indicator_rules.record_bands(with_indicators)
    _keep_past({r.symbol: r.keep for r in gate if r.keep is not None})
    return result


def _keep_past(cuts: dict[str, datetime]) -> None:
    """Keep in each symbol's row the range of its daily candles from its cut to yesterday, read
    again under the row's lock (not taken from the gate's read: a past day written since then has
    cleared the row through its trigger, and the stale range must not be put back)."""
    held = sorted(symbol_locks.lock_free(cuts))  # the others: another check keeps or a trigger clears it
    if held:
        db.session.execute(_KEEP_PAST, {"symbols": literal(held), "cuts": literal(cuts[s] for s in held)})


def _symbol_changes(ticks: Sequence[Tick]) -> tuple[list[tuple[Any, Outcome]], dict[str, list[Tick]]]:
    """What the ticks (of the symbols the gate let through) do to the alerts on their symbols, and
    the ticks of those with indicator alerts (whose bands to record). Only those: one row each in
    the gate, where the statement below makes eight probes and a reference lookup per window (at
    500 symbols with few alerts it cost a worker 10-14 ms a batch, holding up the next persist)."""
    if not ticks:
        return [], {}
    by_symbol: dict[str, list[Tick]] = defaultdict(list)
    for t in ticks:
        by_symbol[t.symbol].append(t)
    candidates = db.session.execute(_CANDIDATES, _arrays(ticks)).all()
    indicator_values, levels = indicator_rules.values(by_symbol)
    on_positions, held = holding_rules.candidates(list(by_symbol))
    candidates = [*candidates, *indicator_rules.candidates(by_symbol, indicator_values, levels), *on_positions]
    changes: list[tuple[Any, Outcome]] = []
    seen: dict[tuple[str, Any], list[Observation]] = {}  # the same observations for every alert
    for row in candidates:
        key = (row.symbol, getattr(row, "key", None) or row.window_seconds or row.rule)
        if key not in seen:
            if row.rule in HOLDING_RULES:
                seen[key] = holding_rules.observations(row.rule, by_symbol[row.symbol], held.get(row.symbol))
            else:
                if row.rule in ("cross", "rsi"):
                    references = indicator_values[key]
                else:
                    references = dict(zip(row.ref_times or (), row.ref_prices or (), strict=True))
                seen[key] = [
                    Observation(t.price, t.observed_at, t.received_at, references.get(t.observed_at))
                    for t in by_symbol[row.symbol]
                ]
        outcome = evaluate(_state(row), seen[key])
        if outcome is not None:
            changes.append((row, outcome))
    return changes, {symbol: by_symbol[symbol] for symbol, _ in indicator_values}


def _arrays(ticks: Sequence[Tick]) -> dict[str, str]:
    """The ticks as the gate's and the candidates' statements take them: symbols, prices, times."""
    return {
        "symbols": literal(t.symbol for t in ticks),
        "prices": literal(t.price for t in ticks),
        "observed": literal(t.observed_at for t in ticks),
    }


def apply_changes(changes: Sequence[tuple[Any, Outcome]], details: dict[int, str] | None = None) -> CheckResult:
    """Apply each alert's outcome if it still has the version read (``_APPLY``), without
    committing; ``details``: the text kept with an alert's fire (a daily summary's)."""
    if not changes:
        return CheckResult([], [])
    fires = [outcome.fire for _, outcome in changes]
    rows = db.session.execute(
        _APPLY,
        {
            "ids": literal(row.id for row, _ in changes),
            "versions": literal(row.version for row, _ in changes),
            "fire": literal(f is not None for f in fires),
            "prices": literal(f.price if f else None for f in fires),
            "refs": literal(f.reference if f else None for f in fires),
            "observed": literal(f.observed_at if f else None for f in fires),
            "armed": literal(outcome.armed for _, outcome in changes),
            "details": literal((details or {}).get(row.id) for row, _ in changes),
        },
    ).all()
    events = {r.alert_id: r.event_id for r in rows}
    fired = db.session.scalars(
        select(Alert).where(Alert.id.in_(events)).order_by(Alert.id).execution_options(populate_existing=True)
    ).all()
    return CheckResult(
        [alert_json(a) | {"event_id": events[a.id]} for a in fired], [d for r in rows for d in r.delivery_ids]
    )


def send_summaries(base: str) -> CheckResult:
    """Fire each daily summary whose time has come (the sweep's), its text kept with the event."""
    due = portfolio_rules.due_summaries(datetime.now(UTC), base)
    result = apply_changes([(row, Outcome(obs, True)) for row, obs, _ in due], {row.id: words for row, _, words in due})
    db.session.commit()
    return result


def create_alert(spec: AlertSpec, max_active: int | None = None, max_per_symbol: int | None = None) -> dict[str, Any]:
    """Store a new active alert with its channels (ApiError 400 for an unknown channel id, or
    when it would pass ``max_active`` active alerts in all or ``max_per_symbol`` on its symbol)."""
    check_channel_ids(spec.channels)
    _check_limits(spec.symbol, max_active, max_per_symbol)
    alert = Alert(
        symbol=spec.symbol,
        rule=spec.rule,
        direction=spec.direction,
        threshold=spec.threshold,
        change_percent=spec.change_percent,
        window_seconds=spec.window_seconds,
        indicator=spec.indicator,
        period=spec.period,
        timeframe=spec.timeframe,
        level=spec.level,
        daily_at=spec.daily_at,
        timezone=spec.timezone,
        currency=spec.currency,
        frequency=spec.frequency,
        cooldown_seconds=spec.cooldown_seconds,
        expires_at=spec.expires_at,
        note=spec.note,
        armed=spec.rule != "cross",  # a cross fires at a crossing: first the price on the other side
    )
    db.session.add(alert)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        if "uq_alerts_active_rule" not in str(exc.orig):
            raise
        raise duplicate_of(spec) from None
    if spec.channels:
        db.session.execute(insert(AlertChannel), [{"alert_id": alert.id, "channel_id": c} for c in spec.channels])
    db.session.commit()
    return with_channels([alert])[0]


def _check_limits(symbol: str, max_active: int | None, max_per_symbol: int | None) -> None:
    if max_active is None and max_per_symbol is None:
        return
    # Held to the commit: two creates at once count one after the other, so neither passes a limit.
    db.session.execute(select(func.pg_advisory_xact_lock(LIMIT_LOCK)))
    active, on_symbol = db.session.execute(
        select(func.count(), func.count().filter(Alert.symbol == symbol)).where(Alert.status == "active")
    ).one()
    if max_active is not None and active >= max_active:
        raise ApiError(CONFLICT, f"at most {max_active} active alerts (MAX_ACTIVE_ALERTS): cancel some first", "symbol")
    if max_per_symbol is not None and on_symbol >= max_per_symbol:
        raise ApiError(
            CONFLICT,
            f"at most {max_per_symbol} active alerts on {symbol} (MAX_ALERTS_PER_SYMBOL): cancel some first",
            "symbol",
        )


def duplicate_of(spec: AlertSpec | Alert) -> ApiError:
    """409 naming the active alert with the same rule (``spec``: a new alert's, or a stored one)."""
    same = [getattr(Alert, name) == getattr(spec, name) for name in ALERT_IDENTITY]
    existing = db.session.scalars(select(Alert).where(Alert.status == "active", *same)).first()
    name = f"#{existing.id} " if existing else ""
    return ApiError(409, f"an identical alert is already active: {name}{describe_named(spec)}, {spec.frequency}")


def cancel_alert(alert_id: int) -> dict[str, Any] | None:
    """Cancel an active alert; None when no such alert exists. A fired alert stays triggered."""
    row = db.session.execute(
        update(Alert).where(Alert.id == alert_id, Alert.status == "active").values(status="cancelled").returning(Alert)
    ).scalar_one_or_none()
    db.session.commit()
    if row is None:
        row = db.session.get(Alert, alert_id)
    return None if row is None else with_channels([row])[0]


_EXPIRE = text(
    f"""
    WITH expired AS (
        UPDATE alerts SET status = 'expired', version = version + 1
        WHERE status = 'active' AND expires_at <= statement_timestamp()
        RETURNING id, expires_at
    ),
    events AS (
        INSERT INTO alert_events (alert_id, kind, observed_at)
        SELECT id, 'expired', expires_at FROM expired
        RETURNING id, alert_id
    ),
    queued AS ({QUEUE_DELIVERIES})
    SELECT (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM expired) AS alerts,
           (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM queued) AS deliveries
    """  # noqa: S608 - QUEUE_DELIVERIES is a constant above
)


def expire_alerts() -> CheckResult:
    """Mark active alerts past their expires_at as expired, each with an ``expired`` event and a
    delivery to each of its channels (the message says it expired), in one transaction."""
    ids, deliveries = db.session.execute(_EXPIRE).one()
    db.session.commit()
    expired = db.session.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id)) if ids else []
    return CheckResult([alert_json(a) for a in expired], list(deliveries))


def list_alerts(status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Alerts, newest first: by when they fired for triggered ones, by creation for the others."""
    query = select(Alert)
    if status is not None:
        query = query.where(Alert.status == status)
    newest = Alert.triggered_at.desc().nulls_last() if status == "triggered" else Alert.created_at.desc()
    query = query.order_by(newest, Alert.id.desc()).limit(limit)
    return with_channels(list(db.session.scalars(query)))


def get_alert(alert_id: int) -> dict[str, Any] | None:
    alert = db.session.get(Alert, alert_id)
    return None if alert is None else with_channels([alert])[0]


def with_channels(alerts: list[Alert]) -> list[dict[str, Any]]:
    """alert_json plus each alert's channels and its latest event's delivery statuses."""
    ids = [a.id for a in alerts]
    channels: dict[int, list[dict[str, Any]]] = defaultdict(list)
    deliveries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        rows = db.session.execute(
            select(AlertChannel.alert_id, Channel)
            .join(Channel, Channel.id == AlertChannel.channel_id)
            .where(AlertChannel.alert_id.in_(ids))
            .order_by(Channel.name)
        )
        for alert_id, channel in rows:
            health = channel_health(channel)
            channels[alert_id].append(
                {"id": channel.id, "name": channel.name, "enabled": channel.enabled}
                | {k: health[k] for k in ("failing_since", "last_error")}
            )
        latest = (
            select(AlertEvent.alert_id, db.func.max(AlertEvent.id).label("event_id"))
            .where(AlertEvent.alert_id.in_(ids))
            .group_by(AlertEvent.alert_id)
            .subquery()
        )
        rows = db.session.execute(
            select(latest.c.alert_id, Delivery)
            .join(Delivery, Delivery.event_id == latest.c.event_id)
            .order_by(Delivery.channel_name)
        )
        for alert_id, delivery in rows:
            deliveries[alert_id].append(delivery_json(delivery))
    return [alert_json(a) | {"channels": channels[a.id], "last_deliveries": deliveries[a.id]} for a in alerts]


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "channel_id": delivery.channel_id,
        "channel": delivery.channel_name,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
    }


def alert_events(alert_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The alert's fires and its expiry (``kind``), newest first, each with its deliveries."""
    events = list(
        db.session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id.desc()).limit(limit)
        )
    )
    by_event: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if events:
        query = select(Delivery).where(Delivery.event_id.in_([e.id for e in events])).order_by(Delivery.channel_name)
        for delivery in db.session.scalars(query):
            by_event[delivery.event_id].append(delivery_json(delivery))
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "price": None if e.price is None else float(e.price),
            "reference_price": None if e.reference_price is None else float(e.reference_price),
            "observed_at": e.observed_at.isoformat(),
            "fired_at": e.fired_at.isoformat(),
            "deliveries": by_event[e.id],
            "detail": e.detail,
        }
        for e in events
    ]


FIRED_LIMIT, MAX_FIRED_LIMIT = 100, 1000  # fires per answer: by default, at most


def fires_after(after: int | None, limit: int) -> dict[str, Any]:
    """Fires (events) with an id above ``after``, oldest first, at most ``limit``; without ``after``,
    the newest ``limit``. With the newest event id, so that a page that was away asks for what it
    missed, and then from there."""
    query = select(AlertEvent, Alert).join(Alert, Alert.id == AlertEvent.alert_id).where(AlertEvent.kind == "fired")
    if after is None:
        rows = list(db.session.execute(query.order_by(AlertEvent.id.desc()).limit(limit)))[::-1]
        more = False
    else:
        rows = list(db.session.execute(query.where(AlertEvent.id > after).order_by(AlertEvent.id).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
    newest = db.session.scalar(select(func.max(AlertEvent.id)).where(AlertEvent.kind == "fired")) or 0
    fired = [
        {
            "event_id": event.id,
            "price": float(event.price),
            "observed_at": event.observed_at.isoformat(),
            "fired_at": event.fired_at.isoformat(),
            "alert": alert_json(alert),
        }
        for event, alert in rows
    ]
    return {"fired": fired, "last_event_id": newest, "more": more}
