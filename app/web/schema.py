"""The REST API's request and response shapes, from which spectree makes /openapi.json.

The routes in app/web/ declare these with ``@api_spec.validate(..., skip_validation=True)``:
the document comes from the code, while checking a request stays with app/web/validation.py
(one place, with messages that name the field). schemathesis holds the two together in
tests/integration/test_openapi.py: every answer must match what is declared here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import Meta, Struct, field
from spectree import Response, SpecTree
from spectree.model_adapter.msgspec_adapter import MsgspecModelAdapter
from spectree.models import InType, SecureType, SecurityScheme, SecuritySchemeData

from app.access import tokens
from app.alerting import alerts, channels
from app.alerting.rules import (
    MAX_COOLDOWN_SECONDS,
    MAX_NOTE_LENGTH,
    MAX_PNL_PERCENT,
    MAX_WINDOW_SECONDS,
    MIN_COOLDOWN_SECONDS,
    MIN_PNL_PERCENT,
    MIN_WINDOW_SECONDS,
)
from app.market import indicators, watchlist
from app.market.ticks import MAX_PRICE, MIN_PRICE
from app.models import STATUSES
from app.web import validation as V

api_spec = SpecTree(
    "flask",
    mode="strict",  # only the routes declared with api_spec.validate
    model_adapter=MsgspecModelAdapter(),
    naming_strategy=lambda model: model.__name__,  # plain names: Alert, not Alert.cba1c4c
    nested_naming_strategy=lambda _parent, child: child,
    title="Stock Ticker API",
    version="1",
    description="Live prices, history, alerts and notification channels. With the login on, send a session "
    "cookie (and X-CSRFToken on writes) or `Authorization: Bearer <API token>`.",
    security_schemes=[
        SecurityScheme(name="token", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")),
        SecurityScheme(
            name="session",
            data=SecuritySchemeData(type=SecureType.API_KEY, field_in=InType.COOKIE, name="stockticker_session"),
        ),
    ],
    security=[{"token": []}, {"session": []}],
)

F = TypeVar("F", bound=Callable[..., Any])
Id = Annotated[int, Meta(ge=1, le=V.MAX_ID)]
SymbolText = Annotated[str, Meta(pattern=V.SYMBOL_PATTERN, description="a symbol, any case: BTC-USD, ^GSPC")]
Price = Annotated[float, Meta(ge=float(MIN_PRICE), lt=float(MAX_PRICE))]
NumberText = Annotated[str, Meta(pattern=V.NUMBER_PATTERN, description="a number as text: 97,000.5 or 1e-8")]
SignedNumberText = Annotated[str, Meta(pattern=V.SIGNED_NUMBER_PATTERN, description="a number as text: -7.5, 1,200")]
Instant = Annotated[datetime, Meta(extra_json_schema={"format": "date-time"})]  # msgspec says only "string"
DurationText = Annotated[str, Meta(pattern=V.DURATION_PATTERN, description="seconds, or 90s, 15m, 4h, 7d")]
Status = Literal["active", "triggered", "cancelled", "expired"]
assert Status.__args__ == STATUSES  # noqa: S101 - the model and the document name the same statuses


class Error(Struct):
    error: str
    field: str | None


def answers(ok: int | None = 200, model: Any = None, *errors: int) -> Response:
    """Response declarations: the success (if any) and each error code, all in the one error shape."""
    codes: dict[str, Any] = {f"HTTP_{code}": Error for code in (400, 401, 403, *errors)}
    if ok is not None:
        codes[f"HTTP_{ok}"] = model
    return Response(**codes)


def documented(resp: Response, tag: str, **declared: Any) -> Callable[[F], F]:
    """Declare a route's request and answers for /openapi.json; checking stays with the route."""
    return api_spec.validate(resp=resp, tags=[tag], skip_validation=True, **declared)  # type: ignore[no-any-return]


# --- prices and history -----------------------------------------------------------------------


class HistoryProgress(Struct):
    symbol: str
    state: Literal["queued", "running", "resting", "done", "failed"]
    source: Annotated[str, Meta(description="where the past comes from; `simulated` is made up")]
    until: datetime
    percent: Annotated[int, Meta(ge=0, le=100)]
    rows: int
    error: str | None


class WatchedSymbol(Struct):
    symbol: str
    name: str | None
    currency: str | None
    exchange: str | None
    quote_type: str | None
    calendar: str | None  # its trading hours: an exchange calendar (XNYS), 24/7 for crypto
    price_hint: int | None  # decimals the source quotes it in (2 for a stock); null: by magnitude
    position: int
    history: Annotated[
        HistoryProgress | None, Meta(description="loading its past from the source (null: not planned yet)")
    ] = None


class WatchlistOut(Struct):
    """A named list of symbols (a tab on the page) in its own order."""

    id: int
    name: str
    symbols: list[str]


class SymbolList(Struct):
    symbols: Annotated[list[WatchedSymbol], Meta(description="every watched symbol: those on any list")]
    watchlists: list[WatchlistOut]


class OneSymbol(Struct):
    symbol: WatchedSymbol


class NewSymbol(Struct):
    """A Yahoo Finance symbol (AAPL, ^GSPC, EURUSD=X, BTC-USD), put on a watchlist (the first if none is named)."""

    symbol: SymbolText
    watchlist: Id | None = None


class ListedSymbol(Struct):
    symbol: SymbolText


class RemovedSymbol(Struct):
    symbol: WatchedSymbol
    watched: Annotated[bool, Meta(description="still on another list, so still fetched")]


WatchlistName = Annotated[
    str, Meta(max_length=watchlist.MAX_NAME, pattern=V.NAME_PATTERN, description="Crypto, Tech, Holdings")
]


class WatchlistList(Struct):
    watchlists: list[WatchlistOut]


class OneWatchlist(Struct):
    watchlist: WatchlistOut


class NewWatchlist(Struct):
    name: WatchlistName


class WatchlistChange(Struct):
    """A new name, a new order (each symbol of the list once), or both."""

    name: WatchlistName | None = None
    order: Annotated[list[SymbolText], Meta(min_length=1)] | None = None


class DeletedWatchlist(Struct):
    watchlist: WatchlistOut
    unwatched: Annotated[list[str], Meta(description="its symbols on no other list: no longer fetched")]


class SearchQuery(Struct):
    q: Annotated[
        str,
        Meta(
            pattern=V.NAME_PATTERN, max_length=V.MAX_SEARCH_LENGTH,
            description="a name or the beginning of a symbol: apple, bitcoin, AAP",
        ),
    ]  # fmt: skip
    limit: Annotated[int, Meta(ge=1, le=20)] | None = None


class SymbolMatch(Struct):
    symbol: str
    name: str | None
    exchange: str | None
    quote_type: str | None
    watched: bool


class SymbolSearch(Struct):
    query: str
    source: Annotated[str, Meta(description="the price source that searched: yfinance, simulated")]
    results: Annotated[list[SymbolMatch], Meta(description="best first")]


class SymbolOrder(Struct):
    """Each symbol of the watchlist, once, in the new order."""

    order: Annotated[list[SymbolText], Meta(min_length=1)]


class Tick(Struct):
    symbol: str
    price: float
    observed_at: datetime
    received_at: datetime
    source: str


class LatestPrice(Tick):
    previous_price: float | None
    price_24h_ago: float | None
    price_24h_ago_at: datetime | None
    change_24h_percent: float | None


class MarketSession(Struct):
    """A symbol's market now: crypto is always open (calendar 24/7, no times)."""

    calendar: str
    state: Literal["open", "closed"]
    last_close: datetime | None
    next_open: datetime | None
    next_close: datetime | None


class LatestPrices(Struct):
    prices: list[LatestPrice]
    server_time: datetime
    fetch_interval_seconds: float
    stale_after_seconds: float
    source_state: SourceState
    markets: dict[str, MarketSession]  # symbols whose trading hours are known


class DayFigures(Struct):
    date: Annotated[str, Meta(description="the UTC day of the symbol's newest daily candle (its last session)")]
    open: float
    high: float
    low: float


class YearRange(Struct):
    low: float
    high: float


class SymbolContext(Struct):
    symbol: str
    currency: str | None
    day: DayFigures | None
    previous_close: float | None
    year_range: Annotated[YearRange | None, Meta(description="lowest low and highest high of the last 52 weeks")]
    volume: float | None
    volume_span: Annotated[Literal["day", "24h"], Meta(description="crypto: the last 24 hours; else the day")]


class MarketContext(Struct):
    symbols: list[SymbolContext]


class PointsQuery(Struct):
    points: Annotated[int, Meta(ge=1, le=10000)] | None = None


class History(Struct):
    symbol: str
    points: list[Tick]


class SpanQuery(Struct):
    range: Literal["1h", "24h", "7d", "30d", "1y", "all"] | None = None
    from_: Instant | None = field(default=None, name="from")
    to: Instant | None = None
    max_points: Annotated[int, Meta(ge=2, le=2000)] | None = None


class RangeQuery(SpanQuery, kw_only=True):
    indicators: (
        Annotated[
            str,
            Meta(
                pattern=indicators.PATTERN,
                max_length=V.MAX_QUERY_VALUE,
                description="comma-separated: sma:<period>, ema:<period>, bb:<period>:<width>, rsi:<period>; periods "
                "2-500, width 0.1-10 standard deviations, at most 8 (e.g. sma:20,ema:50,bb:20:2,rsi:14). Not of "
                "this form: 400; numbers out of those bounds: 422",
                examples=["sma:20,ema:50,bb:20:2,rsi:14"],
            ),
        ]
        | None
    ) = None


class Candle(Struct):
    t: datetime
    open: float
    high: float
    low: float
    close: float
    ticks: Annotated[int, Meta(description="raw ticks folded in (0 for a bucket made of a source's bars)")]
    volume: Annotated[float, Meta(description="traded in the bucket, where the source says (else 0)")]


class Backfilled(Struct):
    source: Annotated[str, Meta(description="where the past before `until` came from; `simulated` is made up")]
    until: datetime
    state: Literal["queued", "running", "resting", "done", "failed"]


IndicatorValues = Annotated[
    list[float | None], Meta(description="one value per point, null while the indicator warms up")
]


class Bands(Struct):
    middle: IndicatorValues
    upper: IndicatorValues
    lower: IndicatorValues


class HistoryRange(Struct):
    symbol: str
    range: str | None
    from_: datetime = field(name="from")
    to: datetime
    max_points: int
    bucket_seconds: int
    source: Literal["ticks", "candles_1m", "candles_1h", "candles_1d"]
    points: list[Candle]
    indicators: Annotated[
        dict[str, IndicatorValues | Bands],
        Meta(
            description="each asked indicator by its spec (`sma:20`): its values on the points' buckets, warmed up on "
            "the buckets before them; Bollinger bands as middle, upper and lower. SMA: mean of n closes; EMA: "
            "weight 2/(n+1) seeded with the first SMA; bands: SMA ± width population standard deviations; RSI: "
            "Wilder's smoothing"
        ),
    ]
    backfill: Backfilled | None


SparkPoint = Annotated[list[str | float], Meta(min_length=2, max_length=2, description="[ISO 8601 time, close]")]


class Sparklines(Struct):
    bucket_seconds: int
    symbols: dict[str, list[SparkPoint]]


# --- alerts ---------------------------------------------------------------------------------------


class AlertsQuery(Struct):
    status: Status | None = None


PercentIn = Annotated[float, Meta(gt=float(MIN_PNL_PERCENT), le=float(MAX_PNL_PERCENT))] | SignedNumberText


class AlertChange(Struct):
    """Any fields of a new alert but another symbol; left out: as they are. A rule of another kind
    takes its own fields afresh; ``null`` clears expires_at, note and channels."""

    symbol: SymbolText | None = None
    rule: Literal["above", "below", "change", "cross", "rsi", "value", "pnl", "total", "daily"] | None = None
    direction: Literal["above", "below", "up", "down", "either", "daily"] | None = None
    threshold: Price | NumberText | None = None
    # change: more than 0, at most 1000; pnl: more than -100 (a loss), at most 100,000
    percent: PercentIn | None = None
    window: Annotated[int, Meta(ge=MIN_WINDOW_SECONDS, le=MAX_WINDOW_SECONDS)] | DurationText | None = None
    indicator: Literal["sma", "ema", "rsi"] | None = None  # cross: sma or ema; rsi: rsi (or left out)
    period: Annotated[int, Meta(ge=indicators.MIN_PERIOD, le=indicators.MAX_PERIOD)] | None = None  # rsi: 14
    timeframe: Literal["1m", "1h", "1d"] | None = None  # the candles an indicator is of; default 1h
    level: Annotated[float, Meta(gt=0, lt=100)] | NumberText | None = None  # rsi: required
    at: Annotated[str, Meta(pattern=V.CLOCK_PATTERN)] | None = None  # daily: the time of day, HH:MM
    # daily: an IANA zone name; default the server's TIMEZONE (UTC if it has none)
    timezone: Annotated[str, Meta(max_length=64, pattern=V.ZONE_PATTERN)] | None = None
    frequency: Literal["once", "every_time"] | None = None
    cooldown: Annotated[int, Meta(ge=MIN_COOLDOWN_SECONDS, le=MAX_COOLDOWN_SECONDS)] | DurationText | None = None
    expires_at: Instant | None = None
    note: Annotated[str, Meta(max_length=MAX_NOTE_LENGTH, pattern=V.NOTE_PATTERN)] | None = None
    channels: list[Id] | None = None


class NewAlert(AlertChange, kw_only=True):
    """rule above/below needs threshold; change needs percent and window (direction up, down,
    either); cross needs direction (above, below), indicator (sma, ema) and period; rsi needs
    direction and level (period 14 unless given). Indicator rules read timeframe candles (1h).
    On the position held in the symbol: value needs direction and threshold (its worth, in the
    symbol's currency); pnl needs direction and percent (its P&L against its cost, -7.5 for a loss).
    On the whole portfolio, without a symbol: total needs direction and threshold (its total value
    in BASE_CURRENCY); daily (a summary to the alert's channels every day) needs at, and takes
    timezone, but no frequency or cooldown. Every other rule needs symbol."""

    symbol: SymbolText | None = None


class AlertEditOut(Struct):
    id: int
    edited_at: datetime
    changes: Annotated[dict[str, list[Any]], Meta(description="each changed field: [before, after]")]


class Snooze(Struct):
    """One of: ``until`` a time, or ``for`` a duration (1 min to 30 d)."""

    until: Instant | None = None
    for_: Annotated[int, Meta(ge=60, le=30 * 86400)] | DurationText | None = field(default=None, name="for")


class ChannelRef(Struct):
    id: int
    name: str
    enabled: bool = True
    failing_since: datetime | None = None  # its last delivery attempts failed since then
    last_error: str | None = None


class Delivery(Struct):
    id: int
    channel_id: int | None
    channel: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class Alert(Struct):
    id: int
    symbol: str | None  # null: on the whole portfolio (total, daily)
    rule: str
    direction: str
    threshold: float | None
    percent: float | None
    window: int | None
    indicator: str | None
    period: int | None
    timeframe: str | None
    level: float | None
    at: str | None  # daily: HH:MM
    timezone: str | None  # daily
    currency: str | None  # total: its threshold's
    condition: str
    frequency: str
    cooldown: int | None
    expires_at: datetime | None
    note: str
    status: Status
    fire_count: int
    created_at: datetime
    triggered_at: datetime | None
    triggered_price: float | None
    paused_at: datetime | None = None
    snoozed_until: datetime | None = None  # while ahead
    checked: bool = True  # whether the alert check looks at it now: active, neither paused nor snoozed
    channels: list[ChannelRef] = []
    last_deliveries: list[Delivery] = []


class OneAlert(Struct):
    alert: Alert


class AlertList(Struct):
    alerts: list[Alert]


class AlertEvent(Struct):
    id: int
    kind: Literal["fired", "expired"]
    price: float | None  # the tick that fired it; null for an expiry
    reference_price: float | None
    observed_at: datetime
    fired_at: datetime
    deliveries: list[Delivery]
    detail: str | None = None  # a daily summary's text, as sent


class FiredQuery(Struct):
    after: Annotated[int, Meta(ge=0, le=V.MAX_ID)] | None = None
    limit: Annotated[int, Meta(ge=1, le=alerts.MAX_FIRED_LIMIT)] | None = None


class Fire(Struct):
    """One fire of an alert: the event, and the alert as it is now."""

    event_id: int
    price: float
    observed_at: datetime
    fired_at: datetime
    alert: Alert


class FiredAlerts(Struct):
    fired: list[Fire]
    last_event_id: int  # the newest event's id (0: none yet): ask from here next
    more: bool  # more fires after the last one given than ``limit`` let through


class AlertEvents(Struct):
    alert: Alert
    events: list[AlertEvent]
    edits: list[AlertEditOut]


# --- channels -------------------------------------------------------------------------------------


class NewChannel(Struct):
    name: Annotated[str, Meta(max_length=channels.MAX_NAME_LENGTH, pattern=V.NAME_PATTERN)]
    url: Annotated[
        str,
        Meta(max_length=channels.MAX_URL_LENGTH, pattern=channels.URL_PATTERN, description="apprise URL: ntfy://topic"),
    ]


class ChannelChange(Struct):
    enabled: bool


class ChannelAlert(Struct):
    id: int
    symbol: str
    condition: str


class Channel(Struct):
    id: int
    name: str
    url: str
    service: str
    enabled: bool
    created_at: datetime
    failing_since: datetime | None = None  # its delivery attempts have failed since then (null: healthy)
    last_error: str | None = None  # while failing
    last_error_at: datetime | None = None
    last_sent_at: datetime | None = None
    alerts: list[ChannelAlert] = []  # the active alerts that use it (a delete takes it from them)


class OneChannel(Struct):
    channel: Channel


class ChannelList(Struct):
    channels: list[Channel]


class TestSend(Struct):
    channel: int
    sent: bool
    error: str | None


# --- portfolio ------------------------------------------------------------------------------------

Amount = Annotated[str, Meta(description="a decimal as text, exact: 0.015, 94250.5")]
AmountIn = Annotated[float, Meta(gt=0, lt=float(MAX_PRICE))] | NumberText
DateText = Annotated[
    str, Meta(pattern=V.DATE_PATTERN, description="a day, 2026-01-31 (its start in UTC), or a time with a timezone")
]


class NewTransaction(Struct):
    """A buy or sell: quantity and price (each to 10 decimals), fees (default 0) in the symbol's
    currency; date a day (2026-01-31) or an ISO 8601 time with a timezone, not ahead."""

    symbol: SymbolText
    side: Literal["buy", "sell"]
    quantity: AmountIn
    price: AmountIn
    date: DateText
    fees: Annotated[float, Meta(ge=0, lt=float(MAX_PRICE))] | NumberText | None = None
    note: Annotated[str, Meta(max_length=MAX_NOTE_LENGTH, pattern=V.NOTE_PATTERN)] | None = None


class TransactionOut(Struct):
    id: int
    symbol: str
    side: Literal["buy", "sell"]
    quantity: Amount
    price: Amount
    fees: Amount
    date: datetime
    note: str


class OneTransaction(Struct):
    transaction: TransactionOut


class TransactionList(Struct):
    transactions: list[TransactionOut]


class TransactionsQuery(Struct):
    symbol: SymbolText | None = None


class Imported(Struct):
    imported: int


class PositionOut(Struct):
    """Money to the cent in the position's currency; null figures where no price is stored yet."""

    symbol: str
    currency: str
    quantity: Amount
    average_cost: Amount | None  # per unit held, fees included; null when none is held
    price: Amount | None
    price_at: datetime | None
    value: Amount | None
    cost: Amount
    day_change: Amount | None
    day_change_percent: float | None
    unrealised: Amount | None
    unrealised_percent: float | None
    realised: Amount
    fees: Amount
    allocation_percent: float | None  # of the total value


class PortfolioTotals(Struct):
    value: Amount
    cost: Amount
    day_change: Amount
    day_change_percent: float | None
    unrealised: Amount
    realised: Amount
    total_pnl: Amount


class FxRate(Struct):
    rate: Amount  # units of the base currency per unit
    symbol: str  # the FX symbol read (EURUSD=X)
    inverted: bool  # read from the base's own pair (USDJPY=X for JPY), 1 / its price
    at: datetime | None


class ValuePoint(Struct):
    t: datetime  # the bucket's start; figures as of its end
    value: Amount
    cost: Amount


class PortfolioHistory(Struct):
    """The positions' value and cost at the end of each bucket, in ``base_currency``."""

    base_currency: str
    range: str | None
    from_: datetime = field(name="from")
    to: datetime
    bucket_seconds: int
    source: Literal["candles_1m", "candles_1h", "candles_1d"]
    points: list[ValuePoint]


class Portfolio(Struct):
    """Positions by average cost; totals in ``base_currency`` at each currency's newest rate."""

    base_currency: str
    positions: list[PositionOut]
    totals: PortfolioTotals
    rates: dict[str, FxRate]
    missing_rates: list[str]  # currencies left out of the totals: no rate stored yet


# --- status ---------------------------------------------------------------------------------------


class SourceState(Struct):
    """The price source's state: ok, or resting after throttling (until, and why)."""

    type: Literal["source"]
    source: str
    state: Literal["ok", "rate_limited"]
    until: datetime | None = None
    retry_in_seconds: int | None = None
    reason: str | None = None
    message: str | None = None
    stand_in: str | None = None  # the source crypto pairs come from meanwhile (CRYPTO_FALLBACK)


class HistoryLoading(Struct):
    done: int
    failed: int
    loading: Annotated[list[HistoryProgress], Meta(description="the symbols whose past is still loading")]


class PipelineStatus(Struct):
    pipeline: dict[str, dict[str, Any]]
    last_tick_age_seconds: float | None
    deliveries: dict[str, int]
    history: HistoryLoading
    price_source: str
    source_state: SourceState
    server_time: datetime


class Health(Struct):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
    last_tick_age_seconds: float | None = None
    stages: dict[str, str] = {}


HEALTH_ANSWERS = Response(HTTP_200=Health, HTTP_503=Health)


# --- access ---------------------------------------------------------------------------------------


class Credentials(Struct):
    username: Annotated[str, Meta(min_length=1, max_length=1024)]
    password: Annotated[str, Meta(min_length=1, max_length=1024)]


class SignedIn(Struct):
    user: str
    csrf_token: str


class SignedOut(Struct):
    user: None


class SessionInfo(Struct):
    auth_required: bool
    user: str | None
    csrf_token: str | None


class NewToken(Struct):
    name: Annotated[str, Meta(max_length=tokens.MAX_NAME_LENGTH, pattern=V.NAME_PATTERN)]


class ApiToken(Struct):
    id: int
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None


class MadeToken(Struct):
    token: ApiToken
    secret: str


class TokenList(Struct):
    tokens: list[ApiToken]


class Revoked(Struct):
    revoked: int


# Path parameters spectree cannot type from Flask's converters (it types <symbol> as any string).
PATH_PARAMETERS = {"symbol": msgspec.json.schema(SymbolText)}
# Bodies that are not JSON, which spectree cannot declare: the CSV into and out of /api/transactions.
CSV_TEXT = {
    "text/csv": {
        "schema": {
            "type": "string",
            "description": "a header line naming date, symbol, side, quantity, price and optionally fees and note "
            "(any order), then one transaction a line",
        }
    }
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3 document, as JSON-ready data."""
    document = msgspec.to_builtins(api_spec.spec)
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in PATH_PARAMETERS:
                    parameter["schema"] = PATH_PARAMETERS[parameter["name"]]
    paths = document["paths"]
    paths["/api/transactions/import"]["post"]["requestBody"] = {"required": True, "content": CSV_TEXT}
    paths["/api/transactions/export"]["get"]["responses"]["200"]["content"] = CSV_TEXT
    return document
