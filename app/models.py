"""Typed SQLAlchemy 2 models; the schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

PRICE = Numeric(24, 10)
VOLUME = Numeric(30, 8)  # shares, or coins to 8 decimals (a satoshi)
RULES = ("above", "below", "change", "cross", "rsi", "value", "pnl", "total", "daily")
PORTFOLIO_RULES = ("total", "daily")  # on the whole portfolio, not one symbol: the alert has none
CHANGE_DIRECTIONS = ("up", "down", "either")
DIRECTIONS = ("above", "below", *CHANGE_DIRECTIONS)
FREQUENCIES = ("once", "every_time")
STATUSES = ("active", "triggered", "cancelled", "expired")
DELIVERY_STATUSES = ("pending", "sent", "failed")
MOVING_AVERAGES = ("sma", "ema")  # what a cross rule's price crosses
TIMEFRAMES = {"1m": 60, "1h": 3600, "1d": 86400}  # the candles an indicator rule reads: bucket seconds
CANDLE_TABLES = {"1m": "candles_1m", "1h": "candles_1h", "1d": "candles_1d"}
# What makes two alerts the same rule (notes and channels aside).
ALERT_IDENTITY = (
    "symbol", "rule", "direction", "threshold", "change_percent", "window_seconds", "indicator", "period",
    "timeframe", "level", "frequency", "cooldown_seconds", "daily_at", "timezone", "currency",
)  # fmt: skip


class Symbol(db.Model):  # type: ignore[name-defined]
    __tablename__ = "symbols"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    position: Mapped[int] = mapped_column(server_default=text("0"))  # the order cards are shown in
    # What the price source says it is (checked when added); null until known.
    name: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str | None] = mapped_column(String(16))
    exchange: Mapped[str | None] = mapped_column(String(64))
    quote_type: Mapped[str | None] = mapped_column(String(32))
    # Its trading hours: an exchange_calendars name (XNYS, 24/7), null if not known (app/market/hours.py).
    calendar: Mapped[str | None] = mapped_column(String(16))
    # Decimals the source quotes it in (Yahoo's priceHint: 2 for a stock, 4 for a currency pair).
    price_hint: Mapped[int | None] = mapped_column(SmallInteger)
    # The windows of its active change alerts, for the alert check's reference prices. This and
    # the lookups below are set by the database, under this row's lock, for every statement that
    # writes its alerts (the triggers on alerts and set_symbol_lookups, migration 0025).
    alert_windows: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default=text("'{}'"))
    # Likewise the indicators its active cross and RSI alerts read, each with the levels where a
    # rise and a fall would change one of them: {"1d:rsi:14": [30, 70], "1h:sma:20": [0, null]}
    # (RSI: the lowest level an armed above / disarmed below alert has, the highest an armed below
    # / disarmed above one has; a cross: 0 if it has such an alert; null: none).
    indicator_levels: Mapped[dict[str, list[float | None]]] = mapped_column(JSONB, server_default=text("'{}'"))
    # And the rules of its active alerts ("above", "change"), and where the price must go to change
    # one of its above / below / change alerts: the check's gate (app/alerting/alerts.py) passes a
    # batch of the symbol by when it goes nowhere near (a pause or snooze leaves them wider: a
    # look, never a miss); null: none such.
    alert_rules: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    fires_above: Mapped[Decimal | None] = mapped_column(PRICE)  # lowest threshold of an armed above alert
    fires_below: Mapped[Decimal | None] = mapped_column(PRICE)  # highest of an armed below alert
    rearms_below: Mapped[Decimal | None] = mapped_column(PRICE)  # highest of a disarmed above alert
    rearms_above: Mapped[Decimal | None] = mapped_column(PRICE)  # lowest of a disarmed below alert
    fires_moved: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))  # smallest % of an armed change alert
    rearms_change: Mapped[bool] = mapped_column(server_default=text("false"))  # a disarmed change alert
    # The prices those levels are at for ticks from ``indicator_from`` to ``indicator_until`` (the
    # current candles of its indicators): set by the check once its indicators' candles are
    # settled, cleared with the rest; null: the gate looks (app/alerting/indicator_rules.py).
    indicator_up: Mapped[Decimal | None] = mapped_column(Numeric)
    indicator_down: Mapped[Decimal | None] = mapped_column(Numeric)
    indicator_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    indicator_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The lowest and highest price of its daily candles from ``past_cut`` to ``past_until`` (the
    # day before yesterday's end, when kept), the gate's bound on change alerts' references without
    # reading those days; ``past_ticked``: the first day had raw ticks. Kept by the check
    # (app/alerting/alerts.py); a trigger on candles_1d clears it when one of those days is
    # written (migration 0024). Null: read them.
    past_low: Mapped[Decimal | None] = mapped_column(PRICE)
    past_high: Mapped[Decimal | None] = mapped_column(PRICE)
    past_cut: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    past_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    past_ticked: Mapped[bool | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Watchlist(db.Model):  # type: ignore[name-defined]
    """A named list of watched symbols, a tab on the page, with its own order. A symbol is watched
    (``symbols.active``, fetched) while it is on at least one list (app/market/watchlist.py)."""

    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(server_default=text("0"))  # the tabs' order; the first is the default
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


Index("uq_watchlists_name", func.lower(Watchlist.name), unique=True)  # "Crypto" and "crypto" are one name


class WatchlistEntry(db.Model):  # type: ignore[name-defined]
    __tablename__ = "watchlist_entries"

    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), ForeignKey("symbols.symbol"), primary_key=True)
    position: Mapped[int] = mapped_column(server_default=text("0"))


class Tick(db.Model):  # type: ignore[name-defined]
    """Raw ticks, partitioned by UTC day (app/market/partitions.py): retention drops a day whole."""

    __tablename__ = "ticks"
    # The unique index also serves "last N points of a symbol" and time ranges:
    # it leads with (symbol, observed_at), scanned backwards for the newest.
    __table_args__ = (
        UniqueConstraint("symbol", "observed_at", "source", name="uq_ticks_symbol_observed_source"),
        {"postgresql_partition_by": "RANGE (observed_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32), ForeignKey("symbols.symbol"))
    price: Mapped[Decimal] = mapped_column(PRICE)
    # In the key because a partitioned table's keys must hold the partition column.
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(32))  # yfinance, simulated, ccxt:<exchange>
    # Traded since the source's previous figure, where its answer says (null: it does not).
    volume: Mapped[Decimal | None] = mapped_column(VOLUME)


class CandleColumns:
    """One bucket of a symbol's ticks. ``first_at``/``last_at`` are the observed times of the ticks
    that gave ``open``/``close``, so a late batch merges in: an earlier tick takes over the open,
    a later one the close (equal times: the lower price opens, the higher closes, whatever order
    they arrive in). ``ticks`` counts the raw ticks folded in.

    No foreign key to ``symbols``: a candle is only ever made from stored ticks, whose key already
    checked the symbol, and the two checks per batch cost 2.8 ms of a 12 ms persist statement."""

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    open: Mapped[Decimal] = mapped_column(PRICE)
    high: Mapped[Decimal] = mapped_column(PRICE)
    low: Mapped[Decimal] = mapped_column(PRICE)
    close: Mapped[Decimal] = mapped_column(PRICE)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ticks: Mapped[int]
    volume: Mapped[Decimal] = mapped_column(VOLUME, server_default=text("0"))


class Candle1m(CandleColumns, db.Model):  # type: ignore[name-defined]
    __tablename__ = "candles_1m"


class Candle1h(CandleColumns, db.Model):  # type: ignore[name-defined]
    __tablename__ = "candles_1h"


class Candle1d(CandleColumns, db.Model):  # type: ignore[name-defined]
    __tablename__ = "candles_1d"


BACKFILL_STATES = ("queued", "running", "resting", "done", "failed")


class Backfill(db.Model):  # type: ignore[name-defined]
    """A symbol's past loaded from its source into the candle tables, before ``until`` (when this
    install began to see it live): app/market/backfill.py."""

    __tablename__ = "backfills"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'resting', 'done', 'failed')", name="ck_backfills_state"),
    )

    symbol: Mapped[str] = mapped_column(String(32), ForeignKey("symbols.symbol"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_price: Mapped[Decimal | None] = mapped_column(PRICE)  # the first live price from ``until``
    chunks_total: Mapped[int]
    chunks_done: Mapped[int] = mapped_column(server_default=text("0"))
    rows: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    state: Mapped[str] = mapped_column(String(8), server_default=text("'queued'"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BackfillChunk(db.Model):  # type: ignore[name-defined]
    """One chunk done: written in the same transaction as its candles, so a chunk counts once."""

    __tablename__ = "backfill_chunks"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval: Mapped[str] = mapped_column(String(2), primary_key=True)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    rows: Mapped[int]
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Each rule's own fields, and no other rule's.
RULE_FIELDS = (
    "(rule IN ('above', 'below') AND direction = rule AND threshold IS NOT NULL"
    " AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'change' AND direction IN ('up', 'down', 'either') AND change_percent > 0 AND window_seconds > 0"
    " AND threshold IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'cross' AND direction IN ('above', 'below') AND indicator IN ('sma', 'ema')"
    " AND period BETWEEN 2 AND 500 AND timeframe IN ('1m', '1h', '1d') AND threshold IS NULL AND level IS NULL)"
    " OR (rule = 'rsi' AND direction IN ('above', 'below') AND indicator = 'rsi' AND period BETWEEN 2 AND 500"
    " AND timeframe IN ('1m', '1h', '1d') AND level > 0 AND level < 100 AND threshold IS NULL)"
    " OR (rule = 'value' AND direction IN ('above', 'below') AND threshold IS NOT NULL"
    " AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'pnl' AND direction IN ('above', 'below') AND change_percent IS NOT NULL AND window_seconds IS NULL"
    " AND threshold IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'total' AND direction IN ('above', 'below') AND threshold IS NOT NULL AND currency IS NOT NULL"
    " AND change_percent IS NULL AND indicator IS NULL AND level IS NULL)"
    " OR (rule = 'daily' AND direction = 'daily' AND daily_at IS NOT NULL AND timezone IS NOT NULL"
    " AND frequency = 'every_time' AND threshold IS NULL AND change_percent IS NULL AND indicator IS NULL"
    " AND level IS NULL)"
)
# Only the portfolio's rules go without a symbol; only the daily summary has a time and a zone.
PORTFOLIO_FIELDS = (
    "(rule IN ('total', 'daily')) = (symbol IS NULL)"
    " AND (rule = 'daily') = (daily_at IS NOT NULL AND timezone IS NOT NULL)"
    " AND (rule = 'total') = (currency IS NOT NULL)"
)


class Alert(db.Model):  # type: ignore[name-defined]
    """A rule on one symbol, or on the portfolio (``total``, ``daily``: no symbol). ``direction`` is
    above/below for those rules, up/down/either for ``change``. ``version`` changes with every state
    change the alert check makes, so a check working from an older read updates nothing (exactly
    one fire per occurrence)."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(f"rule IN {RULES}", name="ck_alerts_rule"),
        CheckConstraint(RULE_FIELDS, name="ck_alerts_rule_fields"),
        CheckConstraint(PORTFOLIO_FIELDS, name="ck_alerts_portfolio_fields"),
        CheckConstraint("status IN ('active', 'triggered', 'cancelled', 'expired')", name="ck_alerts_status"),
        CheckConstraint("frequency IN ('once', 'every_time')", name="ck_alerts_frequency"),
        CheckConstraint("threshold > 0", name="ck_alerts_threshold_positive"),
        CheckConstraint("char_length(note) <= 200", name="ck_alerts_note_length"),
        # The alert check's range scans: the active alerts of a symbol and rule past a price.
        Index(
            "ix_alerts_active_check", "symbol", "rule", "armed", "threshold", postgresql_where=text("status = 'active'")
        ),
        # The change rules' scans, per symbol: the armed alerts whose percentage the batch's
        # largest move reaches, and the disarmed ones of a direction the batch can re-arm.
        Index(
            "ix_alerts_armed_change",
            "symbol",
            "change_percent",
            postgresql_where=text("status = 'active' AND rule = 'change' AND armed"),
        ),
        Index(
            "ix_alerts_disarmed_change",
            "symbol",
            "direction",
            "change_percent",
            postgresql_where=text("status = 'active' AND rule = 'change' AND NOT armed"),
        ),
        # The indicator rules' scans, per symbol and indicator: crosses by armed state, RSI levels by range.
        Index(
            "ix_alerts_active_indicator",
            "symbol",
            "timeframe",
            "indicator",
            "period",
            "direction",
            "armed",
            "level",
            postgresql_where=text("status = 'active' AND rule IN ('cross', 'rsi')"),
        ),  # fmt: skip
        # One active alert per rule: a second identical one would only fire twice.
        Index(
            "uq_alerts_active_rule",
            *ALERT_IDENTITY,
            unique=True,
            postgresql_where=text("status = 'active'"),
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str | None] = mapped_column(String(32), ForeignKey("symbols.symbol"))
    rule: Mapped[str] = mapped_column(String(6))
    direction: Mapped[str] = mapped_column(String(6))
    threshold: Mapped[Decimal | None] = mapped_column(PRICE)
    change_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    window_seconds: Mapped[int | None]
    # cross: the price crosses SMA/EMA(period); rsi: RSI(period) reaches level; on timeframe candles
    indicator: Mapped[str | None] = mapped_column(String(3))
    period: Mapped[int | None] = mapped_column(SmallInteger)
    timeframe: Mapped[str | None] = mapped_column(String(2))
    level: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    # daily: the summary goes out every day at daily_at, local time in timezone (an IANA name)
    daily_at: Mapped[time | None] = mapped_column(Time)
    timezone: Mapped[str | None] = mapped_column(String(64))
    # total: the currency its threshold is in (BASE_CURRENCY when it was made)
    currency: Mapped[str | None] = mapped_column(String(3))
    frequency: Mapped[str] = mapped_column(String(10), server_default=text("'once'"))
    cooldown_seconds: Mapped[int] = mapped_column(server_default=text("0"))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(200), server_default=text("''"))
    status: Mapped[str] = mapped_column(String(9), server_default=text("'active'"))
    armed: Mapped[bool] = mapped_column(server_default=text("true"))
    version: Mapped[int] = mapped_column(server_default=text("0"))
    fire_count: Mapped[int] = mapped_column(server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    triggered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    triggered_price: Mapped[Decimal | None] = mapped_column(PRICE)
    # Not checked while paused (since then) or snoozed (until then); still active, still expiring.
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Channel(db.Model):  # type: ignore[name-defined]
    """A notification channel: an apprise URL, which carries tokens and passwords (never shown whole)."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Its health, from every delivery attempt (app/alerting/deliveries.py): failing since the first
    # failed attempt after the last message it took; null while its last attempt went through.
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AlertChannel(db.Model):  # type: ignore[name-defined]
    __tablename__ = "alert_channels"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)


class AlertEvent(db.Model):  # type: ignore[name-defined]
    """What an alert's channels are told of: a fire (the tick that fired it) or its expiry (at
    ``observed_at``, the alert's expires_at, with no price)."""

    __tablename__ = "alert_events"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'fired' AND price IS NOT NULL) OR (kind = 'expired' AND price IS NULL)",
            name="ck_alert_events_kind",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(7), server_default=text("'fired'"))
    price: Mapped[Decimal | None] = mapped_column(PRICE)
    reference_price: Mapped[Decimal | None] = mapped_column(PRICE)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A daily summary's text as it was when it fired: a retried delivery sends the same words.
    detail: Mapped[str | None] = mapped_column(Text)


class AlertEdit(db.Model):  # type: ignore[name-defined]
    """One change made to an alert (PATCH /api/alerts/<id>): each changed field, before and after.
    Fires stay in alert_events; an edit keeps the alert's id, its fires and their deliveries."""

    __tablename__ = "alert_edits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    changes: Mapped[dict] = mapped_column(JSONB)  # {"threshold": ["100000", "105000"], ...}
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Delivery(db.Model):  # type: ignore[name-defined]
    """One fired alert's message to one channel; at most one per (event, channel)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel_id", name="uq_deliveries_event_channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_deliveries_status"),
        # The sweep looks only at pending deliveries.
        Index("ix_deliveries_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id", ondelete="CASCADE"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    channel_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(7), server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A script's key to the API. Only a SHA-256 of the token is kept: it is random (256 bits),
    so a slow password hash would add nothing but a cost on every request."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the token's first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsumedOffset(db.Model):  # type: ignore[name-defined]
    """How far PostgreSQL holds a Kafka partition: every record before ``next_offset`` was stored
    and checked for alerts. Written by the bridge from the ranges below; it starts a partition there.
    ``topic_id`` is the broker's id of the topic: one made again under the same name starts afresh."""

    __tablename__ = "consumed_offsets"

    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partition: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ConsumedRange(db.Model):  # type: ignore[name-defined]
    """Offsets [first_offset, next_offset) of one partition that a stage (persist, alerts) has done,
    written in the same transaction as that work. The bridge folds contiguous ranges into
    consumed_offsets and deletes them."""

    __tablename__ = "consumed_ranges"
    __table_args__ = (CheckConstraint("next_offset > first_offset", name="ck_consumed_ranges_nonempty"),)

    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partition: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    first_offset: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


QUANTITY = Numeric(30, 10)  # shares, or coins to 10 decimals


class Transaction(db.Model):  # type: ignore[name-defined]
    """A buy or sell of one symbol: positions are derived from these (app/portfolio/positions.py),
    never stored. ``traded_at`` orders them (ties by id); fees are in the symbol's currency."""

    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint("side IN ('buy', 'sell')", name="ck_transactions_side"),
        CheckConstraint("quantity > 0 AND price > 0 AND fees >= 0", name="ck_transactions_amounts"),
        CheckConstraint("char_length(note) <= 200", name="ck_transactions_note_length"),
        Index("ix_transactions_symbol_traded", "symbol", "traded_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), ForeignKey("symbols.symbol"))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    price: Mapped[Decimal] = mapped_column(PRICE)
    fees: Mapped[Decimal] = mapped_column(PRICE, server_default=text("0"))
    traded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, server_default=text("''"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
