import re
from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings


def test_defaults_match_the_documented_ones():
    settings = load_settings({})
    assert settings.symbols == ("BTC-USD", "ETH-USD", "DOGE-USD")
    assert settings.fetch_interval_seconds == 2.0
    assert settings.price_source == "auto"
    assert settings.history_points == 100
    assert settings.web_port == 8000
    assert settings.kafka_topic == "ticks"
    assert settings.kafka_partitions == 6
    assert settings.kafka_session_timeout_ms == 6000
    assert settings.kafka_heartbeat_interval_ms == 2000
    assert settings.database_url is None and settings.redis_url is None
    assert (settings.crypto_source, settings.crypto_fallback) == ("yfinance", "ccxt:kraken")
    assert settings.kafka_replay_after_seconds == 40.0  # the visibility timeout (30 s) + 10 s
    assert settings.kafka_retention_hours == 168


def test_the_replay_deadline_follows_the_visibility_timeout_unless_set():
    quick = {"BROKER_VISIBILITY_TIMEOUT_SECONDS": "15", "NOTIFY_TIMEOUT_SECONDS": "3"}
    assert load_settings(quick).kafka_replay_after_seconds == 25.0
    assert load_settings({"KAFKA_REPLAY_AFTER_SECONDS": "7.5"}).kafka_replay_after_seconds == 7.5


def test_values_are_parsed_and_normalised(tmp_path: Path):
    settings = load_settings(
        {
            "SYMBOLS": " btc-usd, AAPL ,btc-usd,^GSPC ",
            "FETCH_INTERVAL_SECONDS": "0.5",
            "PRICE_SOURCE": "Simulated",
            "REDIS_URL": "redis://cache:6380/1",
            "DATABASE_URL": "postgresql://u:p@db:5432/ticker",
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9093",
            "LOG_LEVEL": "debug",
            "DATA_DIR": str(tmp_path),
            "CRYPTO_SOURCE": "CCXT:Binance",
            "CRYPTO_FALLBACK": "None",
        }
    )
    assert (settings.crypto_source, settings.crypto_fallback) == ("ccxt:binance", None)
    assert settings.symbols == ("BTC-USD", "AAPL", "^GSPC")
    assert settings.fetch_interval_seconds == 0.5
    assert settings.price_source == "simulated"
    assert settings.celery_broker_url == "redis://cache:6380/1"  # follows REDIS_URL unless set
    assert settings.kafka_bootstrap_servers == "k1:9092,k2:9093"
    assert settings.database_url == "postgresql+psycopg2://u:p@db:5432/ticker"  # our driver, whatever was given
    assert settings.log_level == "DEBUG"
    assert settings.data_dir == tmp_path


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FETCH_INTERVAL_SECONDS": "-1"}, "FETCH_INTERVAL_SECONDS must be a finite number > 0, got '-1'"),
        ({"FETCH_INTERVAL_SECONDS": "soon"}, "FETCH_INTERVAL_SECONDS must be a number, got 'soon'"),
        ({"FETCH_INTERVAL_SECONDS": "inf"}, "FETCH_INTERVAL_SECONDS must be a finite number > 0"),
        ({"PRICE_SOURCE": "bloomberg"}, "PRICE_SOURCE must be one of yfinance, simulated, auto, got 'bloomberg'"),
        ({"CRYPTO_SOURCE": "kraken"}, "CRYPTO_SOURCE must be yfinance or ccxt:<exchange> (e.g. ccxt:kraken), got"),
        ({"CRYPTO_SOURCE": "none"}, "CRYPTO_SOURCE must be yfinance or ccxt:<exchange> (e.g. ccxt:kraken), got 'none'"),
        (
            {"CRYPTO_FALLBACK": "ccxt:"},
            "CRYPTO_FALLBACK must be yfinance or ccxt:<exchange> (e.g. ccxt:kraken), none, got 'ccxt:'",
        ),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with redis:// or rediss:// or unix://"),
        ({"REDIS_URL": "redis://host:notaport/0"}, "REDIS_URL is not a valid URL"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must start with postgresql://"),
        ({"DATABASE_URL": "postgresql:///x"}, "DATABASE_URL has no host"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "kafka"}, "KAFKA_BOOTSTRAP_SERVERS must be host:port"),
        ({"KAFKA_PARTITIONS": "0"}, "KAFKA_PARTITIONS must be >= 1"),
        ({"KAFKA_REPLAY_AFTER_SECONDS": "0.5"}, "KAFKA_REPLAY_AFTER_SECONDS must be a finite number > 1"),
        ({"KAFKA_RETENTION_HOURS": "0"}, "KAFKA_RETENTION_HOURS must be >= 1"),
        ({"WEB_PORT": "70000"}, "WEB_PORT must be >= 1 and <= 65535, got 70000"),
        ({"HISTORY_POINTS": "ten"}, "HISTORY_POINTS must be a whole number, got 'ten'"),
        ({"SYMBOLS": " , "}, "SYMBOLS must list at least one symbol"),
        ({"SYMBOLS": "BTC-USD,<img>"}, "SYMBOLS has an invalid symbol '<IMG>'"),
        (
            {"KAFKA_SESSION_TIMEOUT_MS": "3000", "KAFKA_HEARTBEAT_INTERVAL_MS": "3000"},
            "KAFKA_HEARTBEAT_INTERVAL_MS (3000) must be below KAFKA_SESSION_TIMEOUT_MS (3000)",
        ),
    ],
)
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert message in str(caught.value)


def test_postgres_urls_of_managed_services_get_our_driver():
    assert load_settings({"DATABASE_URL": "postgres://u:p@h/db"}).database_url == "postgresql+psycopg2://u:p@h/db"


def test_a_socket_database_url_is_accepted():
    url = "postgresql+psycopg2://postgres@/stockticker?host=/tmp/pg"
    assert load_settings({"DATABASE_URL": url}).database_url == url


def test_require_says_how_to_get_a_server():
    with pytest.raises(SettingsError, match="DATABASE_URL is not set: run `make run`"):
        load_settings({}).require("DATABASE_URL")


def test_the_login_is_off_by_default_and_listens_on_localhost():
    settings = load_settings({})
    assert (settings.web_host, settings.flower_host, settings.auth_enabled) == ("127.0.0.1", "127.0.0.1", False)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUTH_USERNAME": "me"}, "AUTH_USERNAME is set without AUTH_PASSWORD_HASH (or AUTH_PASSWORD)"),
        ({"AUTH_PASSWORD": "secret12"}, "AUTH_PASSWORD_HASH / AUTH_PASSWORD is set without AUTH_USERNAME"),
        ({"AUTH_USERNAME": "me", "AUTH_PASSWORD_HASH": "plain-text"}, "AUTH_PASSWORD_HASH is not a password hash"),
        (
            {"AUTH_USERNAME": "me", "AUTH_PASSWORD": "x" * 8, "AUTH_PASSWORD_HASH": "scrypt:32768:8:1$salt$hash"},
            "set AUTH_PASSWORD_HASH or AUTH_PASSWORD, not both",
        ),
        ({"AUTH_USERNAME": "a:b", "AUTH_PASSWORD": "x" * 8}, "AUTH_USERNAME must be at most 64 printable"),
        ({"ALLOWED_ORIGINS": "dash.example.com"}, "ALLOWED_ORIGINS must list origins like https://"),
        ({"ALLOWED_ORIGINS": "https://a.example/path"}, "ALLOWED_ORIGINS must list origins like https://"),
        ({"LOGIN_RATE_LIMIT": "often"}, "LOGIN_RATE_LIMIT must read like '5 per minute;30 per hour'"),
        ({"WEB_HOST": "http://0.0.0.0"}, "WEB_HOST must be a host name or IP address"),
    ],
)
def test_bad_access_settings_name_themselves(env, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(env)


def test_access_settings_are_parsed():
    settings = load_settings(
        {"AUTH_USERNAME": "me", "AUTH_PASSWORD_HASH": "scrypt:32768:8:1$salt$hash", "WEB_HOST": "0.0.0.0",
         "ALLOWED_ORIGINS": "https://Dash.Example.com, http://localhost:3000/"}
    )  # fmt: skip
    assert settings.auth_enabled and settings.auth_username == "me"
    assert settings.allowed_origins == ("https://dash.example.com", "http://localhost:3000")
    assert "scrypt" not in repr(load_settings({"AUTH_USERNAME": "me", "AUTH_PASSWORD": "hunter22"})).replace(
        "auth_password_hash=None", ""
    ) and "hunter22" not in repr(load_settings({"AUTH_USERNAME": "me", "AUTH_PASSWORD": "hunter22"}))


def test_the_base_currency_is_a_three_letter_code():
    assert load_settings({}).base_currency == "USD"
    assert load_settings({"BASE_CURRENCY": " eur "}).base_currency == "EUR"
    with pytest.raises(SettingsError, match=r"^BASE_CURRENCY must be a three-letter currency code like USD or EUR, "):
        load_settings({"BASE_CURRENCY": "EURO"})
