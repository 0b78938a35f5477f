"""Typed settings read from environment variables (12-factor).

This is the only module that reads ``os.environ`` for settings. Each variable is
parsed by one small helper per type; a bad value raises :class:`SettingsError`
whose message names the variable, so start-up fails with one readable line.
"""

from __future__ import annotations

import ipaddress
import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

PRICE_SOURCES = ("yfinance", "simulated", "auto")
# Where crypto pairs' prices come from while prices are live: Yahoo, or an exchange through ccxt.
CRYPTO_SOURCE_RE = re.compile(r"^(yfinance|ccxt:[a-z0-9]{2,24})$")
# Yahoo symbols: letters, digits and . - ^ = (BTC-USD, BRK.B, ^GSPC, EURUSD=X).
SYMBOL_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^]{0,31}$")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Seconds a task may take beyond its own network deadline (database, Redis, bookkeeping).
TASK_OVERHEAD_SECONDS = 10


class SettingsError(ValueError):
    """A setting has a value the project cannot run with; the message names it."""


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    return _raw(env, name) or default


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise SettingsError(f"{name} must be >= {minimum}{upper}, got {value}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value > minimum or value == float("inf"):
        raise SettingsError(f"{name} must be a finite number > {minimum:g}, got {raw!r}")
    return value


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(env, name) or default
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def env_currency(env: Mapping[str, str], name: str, default: str) -> str:
    """An ISO 4217 code: three letters, stored upper-case."""
    value = (_raw(env, name) or default).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise SettingsError(f"{name} must be a three-letter currency code like USD or EUR, got {value!r}")
    return value


def env_timezone(env: Mapping[str, str], name: str) -> tzinfo | None:
    """An IANA zone (Europe/Paris, America/New_York, UTC); None when unset: the server's own."""
    value = _raw(env, name)
    if value is None:
        return None
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{name} must be an IANA time zone like Europe/Paris or UTC, got {value!r}") from None


def env_crypto_source(env: Mapping[str, str], name: str, default: str, *, allow_none: bool = False) -> str | None:
    """``yfinance`` or ``ccxt:<exchange id>`` (ccxt's lower-case id: kraken, binance, coinbase...);
    ``none`` where allowed. Whether ccxt knows the exchange is checked when the source is made."""
    value = (_raw(env, name) or default).lower()
    if allow_none and value == "none":
        return None
    if not CRYPTO_SOURCE_RE.match(value):
        other = ", none" if allow_none else ""
        raise SettingsError(f"{name} must be yfinance or ccxt:<exchange> (e.g. ccxt:kraken){other}, got {value!r}")
    return value


def env_url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    """A URL with one of ``schemes``, or None when unset (the embedded server is used)."""
    raw = _raw(env, name)
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise SettingsError(f"{name} is not a valid URL ({exc}): {raw!r}") from None
    if parts.scheme not in schemes:
        raise SettingsError(f"{name} must start with {' or '.join(s + '://' for s in schemes)}, got {raw!r}")
    if not parts.hostname and "host=" not in parts.query:
        raise SettingsError(f"{name} has no host: {raw!r}")
    return raw


def database_url(env: Mapping[str, str], name: str) -> str | None:
    """A PostgreSQL URL for our driver: plain postgresql:// or postgres:// URLs (what managed
    services hand out) get +psycopg2, since SQLAlchemy 2.1 would pick psycopg 3 for them."""
    url = env_url(env, name, ("postgresql", "postgresql+psycopg2", "postgres"))
    if url is None:
        return None
    scheme, rest = url.split("://", 1)
    return url if scheme == "postgresql+psycopg2" else f"postgresql+psycopg2://{rest}"


def env_http_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) URL with a host, ending in / so paths can be appended."""
    raw = _raw(env, name) or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http:// or https:// URL with a host, got {raw!r}")
    return raw if raw.endswith("/") else raw + "/"


def env_bootstrap(env: Mapping[str, str], name: str) -> str | None:
    """Comma-separated host:port pairs, or None when unset."""
    raw = _raw(env, name)
    if raw is None:
        return None
    for server in raw.split(","):
        host, _, port = server.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"{name} must be host:port[,host:port...], got {raw!r}")
    return raw


def env_origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated origins (scheme://host[:port]), normalised to lower case without a path."""
    raw = _raw(env, name)
    origins: list[str] = []
    for item in (raw or "").split(","):
        origin = item.strip()
        if not origin:
            continue
        parts = urlsplit(origin.lower())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise SettingsError(f"{name} must list origins like https://ticker.example.com[:port], got {origin!r}")
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(origins)


def env_password_hash(env: Mapping[str, str], name: str) -> str | None:
    """A werkzeug password hash (method$salt$hash), as `python -m app.access hash-password` prints."""
    raw = _raw(env, name)
    if raw is None:
        return None
    method, *rest = raw.split("$")
    if len(rest) != 2 or not method.startswith(("scrypt", "pbkdf2")):
        raise SettingsError(
            f"{name} is not a password hash (make one with `python -m app.access hash-password`); "
            "in a .env file put it in single quotes, it contains $"
        )
    return raw


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def env_symbols(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    raw = _raw(env, name) or default
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in raw.split(",") if s.strip()))
    if not symbols:
        raise SettingsError(f"{name} must list at least one symbol")
    for symbol in symbols:
        if not SYMBOL_RE.match(symbol):
            raise SettingsError(f"{name} has an invalid symbol {symbol!r}")
    return symbols


@dataclass(frozen=True)
class Settings:
    """Every setting of the project; see the README's settings table."""

    database_url: str | None
    redis_url: str | None
    celery_broker_url: str | None
    kafka_bootstrap_servers: str | None
    kafka_topic: str = "ticks"
    kafka_partitions: int = 6
    kafka_consumer_group: str = "stockticker-bridge"
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 2000
    kafka_max_poll_records: int = 500
    kafka_poll_timeout_ms: int = 1000
    kafka_fetch_max_wait_ms: int = 20
    kafka_replay_after_seconds: float = 40.0
    kafka_retention_hours: int = 168
    symbols: tuple[str, ...] = ("BTC-USD", "ETH-USD", "DOGE-USD")
    fetch_interval_seconds: float = 2.0
    price_source: str = "auto"
    crypto_source: str = "yfinance"
    crypto_fallback: str | None = "ccxt:kraken"
    yfinance_timeout_seconds: float = 10.0
    simulator_seed: int = 42
    history_points: int = 100
    web_port: int = 8000
    web_workers: int = 2
    web_connections: int = 2000
    flower_port: int = 5555
    data_dir: Path = field(default=PROJECT_ROOT / ".data")
    embedded_redis_port: int = 6379
    embedded_kafka_port: int = 9092
    log_level: str = "INFO"
    public_url: str = "http://localhost:8000/"
    timezone: tzinfo | None = None  # the zone notification messages give times in; None: the server's
    base_currency: str = "USD"  # the portfolio's totals are in this
    notify_max_attempts: int = 8
    notify_timeout_seconds: float = 10.0
    notify_retry_seconds: float = 5.0
    broker_visibility_timeout_seconds: int = 30
    health_max_tick_age_seconds: float = 30.0
    candles: bool = True
    backfill: bool = True  # load each symbol's past from its source (app/market/backfill.py)
    backfill_years: int = 20
    backfill_pause_seconds: float = 0.5  # between two history requests to a real source
    raw_retention_days: int = 7
    candles_1m_retention_days: int = 90
    web_host: str = "127.0.0.1"
    flower_host: str = "127.0.0.1"
    auth_username: str | None = None
    auth_password_hash: str | None = None
    auth_password: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    allowed_origins: tuple[str, ...] = ()
    login_rate_limit: str = "5 per minute;30 per hour"
    session_days: int = 14
    max_active_alerts: int = 1000
    max_alerts_per_symbol: int = 100
    max_channels: int = 20
    max_symbols: int = 500

    @property
    def auth_enabled(self) -> bool:
        return self.auth_username is not None

    def require(self, name: str) -> str:
        """The value of a server URL setting, which a service process cannot start without."""
        value = getattr(self, name.lower())
        if not value:
            raise SettingsError(f"{name} is not set: run `make run` (starts embedded servers) or export {name}")
        return str(value)


def require_auth_beyond_localhost(settings: Settings, host_setting: str) -> None:
    """A process that listens beyond this machine must ask for the login; refuse to start otherwise."""
    host = getattr(settings, host_setting.lower())
    if is_loopback(host):
        return
    if not settings.auth_enabled:
        raise SettingsError(
            f"{host_setting}={host} listens beyond this machine, so set AUTH_USERNAME and AUTH_PASSWORD_HASH "
            f"(`python -m app.access hash-password` makes the hash) or {host_setting}=127.0.0.1"
        )
    if host_setting == "FLOWER_HOST" and settings.auth_password is None:
        raise SettingsError(
            f"{host_setting}={host} listens beyond this machine and Flower's basic auth compares a plain password: "
            f"set AUTH_PASSWORD (the web accepts it in place of AUTH_PASSWORD_HASH) or {host_setting}=127.0.0.1"
        )


def env_optional(env: Mapping[str, str], name: str) -> str | None:
    """A string that may be unset (None)."""
    return _raw(env, name)


def _auth(env: Mapping[str, str]) -> dict[str, str | None]:
    username = env_optional(env, "AUTH_USERNAME")
    password_hash = env_password_hash(env, "AUTH_PASSWORD_HASH")
    password = env_optional(env, "AUTH_PASSWORD")
    if password_hash and password:
        raise SettingsError("set AUTH_PASSWORD_HASH or AUTH_PASSWORD, not both")
    if username and not (password_hash or password):
        raise SettingsError("AUTH_USERNAME is set without AUTH_PASSWORD_HASH (or AUTH_PASSWORD)")
    if (password_hash or password) and not username:
        raise SettingsError("AUTH_PASSWORD_HASH / AUTH_PASSWORD is set without AUTH_USERNAME")
    if username and (len(username) > 64 or ":" in username or not username.isprintable()):
        raise SettingsError("AUTH_USERNAME must be at most 64 printable characters without ':'")
    return {"auth_username": username, "auth_password_hash": password_hash, "auth_password": password}


def env_rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    from limits import parse_many

    raw = _raw(env, name) or default
    try:
        parse_many(raw)
    except ValueError:
        raise SettingsError(f"{name} must read like '5 per minute;30 per hour', got {raw!r}") from None
    return raw


def env_host(env: Mapping[str, str], name: str, default: str) -> str:
    raw = _raw(env, name) or default
    if any(c in raw for c in "/ :") and not raw.startswith("["):
        raise SettingsError(f"{name} must be a host name or IP address (0.0.0.0 for every interface), got {raw!r}")
    return raw


def exit_on(error: SettingsError) -> NoReturn:
    """End a process entry point with one line naming the setting, no traceback."""
    raise SystemExit(f"configuration error: {error}") from None


def load_settings_or_exit(env: Mapping[str, str] | None = None) -> Settings:
    """load_settings for a process entry point."""
    try:
        return load_settings(env)
    except SettingsError as exc:
        exit_on(exc)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Parse and validate every setting; raises SettingsError naming the first bad one."""
    env = os.environ if env is None else env
    redis_url = env_url(env, "REDIS_URL", ("redis", "rediss", "unix"))
    session_timeout = env_int(env, "KAFKA_SESSION_TIMEOUT_MS", 6000, minimum=1000)
    heartbeat = env_int(env, "KAFKA_HEARTBEAT_INTERVAL_MS", 2000, minimum=100)
    if heartbeat >= session_timeout:
        raise SettingsError(
            f"KAFKA_HEARTBEAT_INTERVAL_MS ({heartbeat}) must be below KAFKA_SESSION_TIMEOUT_MS ({session_timeout})"
        )
    web_port = env_int(env, "WEB_PORT", 8000, minimum=1, maximum=65535)
    notify_timeout = env_float(env, "NOTIFY_TIMEOUT_SECONDS", 10.0, minimum=0)
    visibility = env_int(env, "BROKER_VISIBILITY_TIMEOUT_SECONDS", 30, minimum=10)
    if visibility < notify_timeout + TASK_OVERHEAD_SECONDS:
        raise SettingsError(
            f"BROKER_VISIBILITY_TIMEOUT_SECONDS ({visibility}) must exceed NOTIFY_TIMEOUT_SECONDS ({notify_timeout:g}) "
            f"by at least {TASK_OVERHEAD_SECONDS} s, or sends still under way are handed out twice"
        )
    # Past the broker's own redelivery (visibility timeout + Kombu's 5 s restore sweep): a killed
    # worker's batches come back from Redis first, and only what Redis lost is replayed from Kafka.
    replay_after = env_float(env, "KAFKA_REPLAY_AFTER_SECONDS", visibility + 10.0, minimum=1)
    return Settings(
        database_url=database_url(env, "DATABASE_URL"),
        redis_url=redis_url,
        celery_broker_url=env_url(env, "CELERY_BROKER_URL", ("redis", "rediss", "amqp", "pyamqp")) or redis_url,
        kafka_bootstrap_servers=env_bootstrap(env, "KAFKA_BOOTSTRAP_SERVERS"),
        kafka_topic=env_str(env, "KAFKA_TOPIC", "ticks"),
        kafka_partitions=env_int(env, "KAFKA_PARTITIONS", 6, minimum=1, maximum=1000),
        kafka_consumer_group=env_str(env, "KAFKA_CONSUMER_GROUP", "stockticker-bridge"),
        kafka_session_timeout_ms=session_timeout,
        kafka_heartbeat_interval_ms=heartbeat,
        kafka_max_poll_records=env_int(env, "KAFKA_MAX_POLL_RECORDS", 500, minimum=1),
        kafka_poll_timeout_ms=env_int(env, "KAFKA_POLL_TIMEOUT_MS", 1000, minimum=10),
        kafka_fetch_max_wait_ms=env_int(env, "KAFKA_FETCH_MAX_WAIT_MS", 20, minimum=1),
        kafka_replay_after_seconds=replay_after,
        kafka_retention_hours=env_int(env, "KAFKA_RETENTION_HOURS", 168, minimum=1),
        symbols=env_symbols(env, "SYMBOLS", "BTC-USD,ETH-USD,DOGE-USD"),
        fetch_interval_seconds=env_float(env, "FETCH_INTERVAL_SECONDS", 2.0, minimum=0),
        price_source=env_choice(env, "PRICE_SOURCE", "auto", PRICE_SOURCES),
        crypto_source=env_crypto_source(env, "CRYPTO_SOURCE", "yfinance"),
        crypto_fallback=env_crypto_source(env, "CRYPTO_FALLBACK", "ccxt:kraken", allow_none=True),
        yfinance_timeout_seconds=env_float(env, "YFINANCE_TIMEOUT_SECONDS", 10.0, minimum=0),
        simulator_seed=env_int(env, "SIMULATOR_SEED", 42),
        history_points=env_int(env, "HISTORY_POINTS", 100, minimum=1, maximum=10000),
        web_port=web_port,
        web_workers=env_int(env, "WEB_WORKERS", 2, minimum=1, maximum=64),
        web_connections=env_int(env, "WEB_CONNECTIONS", 2000, minimum=10),
        flower_port=env_int(env, "FLOWER_PORT", 5555, minimum=1, maximum=65535),
        data_dir=Path(env_str(env, "DATA_DIR", str(PROJECT_ROOT / ".data"))).resolve(),
        embedded_redis_port=env_int(env, "EMBEDDED_REDIS_PORT", 6379, minimum=1, maximum=65535),
        embedded_kafka_port=env_int(env, "EMBEDDED_KAFKA_PORT", 9092, minimum=1, maximum=65535),
        log_level=env_choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        public_url=env_http_url(env, "PUBLIC_URL", f"http://localhost:{web_port}/"),
        timezone=env_timezone(env, "TIMEZONE"),
        base_currency=env_currency(env, "BASE_CURRENCY", "USD"),
        notify_max_attempts=env_int(env, "NOTIFY_MAX_ATTEMPTS", 8, minimum=1, maximum=50),
        notify_timeout_seconds=notify_timeout,
        notify_retry_seconds=env_float(env, "NOTIFY_RETRY_SECONDS", 5.0, minimum=0),
        broker_visibility_timeout_seconds=visibility,
        health_max_tick_age_seconds=env_float(env, "HEALTH_MAX_TICK_AGE_SECONDS", 30.0, minimum=0),
        candles=env_choice(env, "CANDLES", "on", ("on", "off")) == "on",
        backfill=env_choice(env, "BACKFILL", "on", ("on", "off")) == "on",
        backfill_years=env_int(env, "BACKFILL_YEARS", 20, minimum=0, maximum=100),
        backfill_pause_seconds=env_float(env, "BACKFILL_PAUSE_SECONDS", 0.5, minimum=0),
        raw_retention_days=env_int(env, "RAW_RETENTION_DAYS", 7, minimum=1),
        candles_1m_retention_days=env_int(env, "CANDLES_1M_RETENTION_DAYS", 90, minimum=1),
        web_host=env_host(env, "WEB_HOST", "127.0.0.1"),
        flower_host=env_host(env, "FLOWER_HOST", "127.0.0.1"),
        **_auth(env),
        secret_key=env_optional(env, "SECRET_KEY"),
        allowed_origins=env_origins(env, "ALLOWED_ORIGINS"),
        login_rate_limit=env_rate_limit(env, "LOGIN_RATE_LIMIT", "5 per minute;30 per hour"),
        session_days=env_int(env, "SESSION_DAYS", 14, minimum=1, maximum=365),
        max_active_alerts=env_int(env, "MAX_ACTIVE_ALERTS", 1000, minimum=1),
        max_alerts_per_symbol=env_int(env, "MAX_ALERTS_PER_SYMBOL", 100, minimum=1),
        max_channels=env_int(env, "MAX_CHANNELS", 20, minimum=1),
        max_symbols=env_int(env, "MAX_SYMBOLS", 500, minimum=1),
    )
