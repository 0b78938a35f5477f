"""Real PostgreSQL, Redis and Kafka (Tansu) for the whole test session, on free ports.

Started once from the same code ``make run`` uses (devstack.servers), in a
temporary folder, and stopped at the end. Each test starts from empty tables,
an empty Redis and its own Kafka topic where it needs one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.access.tokens import create_token
from app.extensions import db
from app.market.watchlist import sync_symbols
from app.services import ensure_topic
from config.settings import Settings, load_settings
from devstack.processes import Stack, running_stack
from devstack.servers import embedded_servers, free_port
from tests.conftest import IN_CI
from tests.integration.browser import CHROMIUM, CHROMIUM_FLAGS, open_page

SYMBOLS = "BTC-USD,ETH-USD,DOGE-USD"


@pytest.fixture(scope="session")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of a stack on free ports: server URLs, data folder, simulated prices."""
    data_dir: Path = tmp_path_factory.mktemp("stack")
    env = {
        "DATA_DIR": str(data_dir),
        "EMBEDDED_REDIS_PORT": str(free_port()),
        "EMBEDDED_KAFKA_PORT": str(free_port()),
        "SYMBOLS": SYMBOLS,
        "PRICE_SOURCE": "simulated",
        "CRYPTO_FALLBACK": "none",  # no network here: test_fetch.py stands Kraken in from recorded answers
        "KAFKA_PARTITIONS": "3",
        "LOG_LEVEL": "INFO",
    }
    with embedded_servers(load_settings(env)) as servers:
        yield env | servers.env


@pytest.fixture(scope="session")
def settings(server_env: dict[str, str]) -> Settings:
    return load_settings(server_env)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, TESTING=True)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        sync_symbols(settings.symbols)
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    yield app


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


DEADLOCK = "40P01"


def _empty_tables(settings: Settings) -> None:
    db.session.execute(
        text(
            # transactions first: a running stack's fetch reads it first, then ticks; taken in the
            # other order, the two locks deadlocked (the fetch holding one, this the other).
            "TRUNCATE transactions, ticks, candles_1m, candles_1h, candles_1d, backfills, backfill_chunks, alerts, "
            "channels, alert_channels, alert_events, alert_edits, deliveries, consumed_offsets, consumed_ranges, "
            "watchlists, watchlist_entries RESTART IDENTITY"
        )
    )  # one transaction to the commit in sync_symbols: a running stack's tick waits, then finds its symbol gone
    # The watchlist as configured, whatever a test added, removed or reordered.
    db.session.execute(text("DELETE FROM symbols WHERE NOT symbol = ANY(:s)"), {"s": list(settings.symbols)})
    db.session.execute(  # undescribed, as seeded
        text("UPDATE symbols SET name = NULL, currency = NULL, exchange = NULL, quote_type = NULL, calendar = NULL")
    )
    sync_symbols(settings.symbols)


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty tables and Redis before each test that uses the servers."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    settings: Settings = request.getfixturevalue("settings")
    with app.app_context():
        for attempt in range(3):
            try:
                _empty_tables(settings)
                break
            except OperationalError as exc:  # a running stack's task held a table this wanted, and the other way round
                db.session.rollback()
                if getattr(exc.orig, "pgcode", None) != DEADLOCK or attempt == 2:
                    raise
    redis.Redis.from_url(settings.redis_url).flushdb()
    yield


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def topic(settings: Settings) -> str:
    """A fresh topic per test, with the configured partition count."""
    name = f"ticks-{uuid.uuid4().hex[:8]}"
    ensure_topic(settings.kafka_bootstrap_servers, name, settings.kafka_partitions)
    return name


@pytest.fixture(scope="module")
def stack_changes() -> dict[str, str]:
    """Changes to the module stack's environment; a module overrides this fixture to set some."""
    return {}


@pytest.fixture(scope="module")
def stack(app, server_env: dict[str, str], stack_changes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack for one test module; with the login on, ``stack.headers`` carry an API token."""
    with running_stack(server_env, tmp_path_factory.mktemp("stack-logs"), **stack_changes) as running:
        if "AUTH_USERNAME" in stack_changes:
            running.headers = signed_in_headers(app)
        yield running


def signed_in_headers(app: Flask) -> dict[str, str]:
    """A fresh token; earlier modules' tokens are deleted, whoever made them (their tests are over,
    and there may be 50 at most: test_openapi's generated requests make up to that many)."""
    with app.app_context():
        db.session.execute(text("DELETE FROM api_tokens"))
        db.session.commit()
        _, secret = create_token("tests")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("CI must run the browser tests: install Debian's chromium (.ci/run does)")
        pytest.skip("no Chromium found: apt-get install chromium to run the browser tests")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context, page, errors = open_page(browser, stack.base_url)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
