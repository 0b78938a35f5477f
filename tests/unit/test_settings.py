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
        }
    )
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
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with redis:// or rediss:// or unix://"),
        ({"REDIS_URL": "redis://host:notaport/0"}, "REDIS_URL is not a valid URL"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must start with postgresql://"),
        ({"DATABASE_URL": "postgresql:///x"}, "DATABASE_URL has no host"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "kafka"}, "KAFKA_BOOTSTRAP_SERVERS must be host:port"),
        ({"KAFKA_PARTITIONS": "0"}, "KAFKA_PARTITIONS must be >= 1"),
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
