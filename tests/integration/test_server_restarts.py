"""Redis, PostgreSQL and the Kafka broker, each stopped for a while and started again while ticks
flow: every process waits for it with backoff, says so in its log, and carries on by itself; the
WebSocket stays open and prices come through it again; what was stored before is all still there.

The module runs servers of its own (stopping the session's would break other tests) and the
stack's processes from their Procfile lines.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, create_engine, text

from config.settings import PROJECT_ROOT
from devstack.processes import PROCESSES, Stack, running_stack, stack_env
from tests.integration.browser import card, wait_for_prices
from tests.integration.conftest import SYMBOLS
from tests.integration.helpers import SocketReader, wait_for
from tests.integration.own_servers import URL_SETTINGS, OwnServers, own_servers

OUTAGE_SECONDS = 5
# What each process says while it waits for the server that went away (its log, after the stop).
WAITING = {
    "redis": {
        "web": "WebSocket relay lost Redis",
        "worker": "Connection to broker lost. Trying to re-establish the connection",
        "beat": "Couldn't apply scheduled task fetch-prices",
    },
    "postgres": {
        "worker": "fetch skipped: the symbols could not be read from PostgreSQL",
        "web": "PostgreSQL unavailable, answered 503",
    },
    "kafka": {
        "worker": "could not produce 3 ticks to Kafka topic 'ticks'",
        "bridge": "Connection lost",
    },
}
# ... and what each says once it is back.
BACK = {
    "redis": {"web": "WebSocket relay subscribed"},
    "postgres": {},
    "kafka": {"bridge": "partitions assigned: [0, 1, 2"},
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServers]:
    with own_servers(tmp_path_factory.mktemp("restarts")) as own:
        yield own


@pytest.fixture(scope="module")
def stack(servers: OwnServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {
        "DATA_DIR": str(servers.root / "data"),
        "SYMBOLS": SYMBOLS,
        "PRICE_SOURCE": "simulated",
        "KAFKA_PARTITIONS": "3",
        "LOG_LEVEL": "INFO",
    } | servers.env
    setup = [sys.executable, "-m", "flask", "--app", "wsgi", "setup"]
    subprocess.run(setup, env=stack_env(env), cwd=PROJECT_ROOT, check=True, capture_output=True)  # noqa: S603
    with running_stack(env, tmp_path_factory.mktemp("restart-logs")) as running:
        yield running


@pytest.fixture(scope="module")
def engine(servers: OwnServers) -> Iterator[Engine]:
    engine = create_engine(servers.env["DATABASE_URL"], pool_pre_ping=True)
    yield engine
    engine.dispose()


def stored(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT symbol, observed_at, source, price FROM ticks"))]


def newest(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT max(received_at) FROM ticks")).scalar_one()


@pytest.mark.parametrize("server", list(URL_SETTINGS))
def test_a_server_restarted_while_ticks_flow_is_waited_for_and_everything_carries_on(
    server: str, servers: OwnServers, stack: Stack, engine: Engine
):
    reader = SocketReader(stack.base_url.replace("http", "ws") + "/ws", timeout=120)
    try:
        wait_for(lambda: reader.of_type("price"), 60, "prices on the WebSocket")
        marks = {name: len(stack.log(name)) for name in PROCESSES}
        before = stored(engine)
        servers.stop(server)
        time.sleep(OUTAGE_SECONDS / 2)
        if server == "postgres":  # the API says so, in JSON, and the web process carries on
            answer = requests.get(f"{stack.base_url}/api/prices/latest", timeout=10)
            assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
            assert answer.json() == {
                "error": "PostgreSQL is unavailable right now; try again in a few seconds",
                "field": None,
            }
        time.sleep(OUTAGE_SECONDS / 2)
        servers.start(server)
        back = datetime.now(UTC)
        started = time.monotonic()
        wait_for(lambda: (newest(engine) or back) > back, 90, f"a tick stored after {server} came back")
        stored_after = time.monotonic() - started
        wait_for(
            lambda: [p for p in reader.of_type("price") if datetime.fromisoformat(p["received_at"]) > back],
            30,
            "a price on the same WebSocket after the restart",
        )
        on_page_after = time.monotonic() - started
        print(f"\n{server}: down {OUTAGE_SECONDS} s; a tick stored {stored_after:.1f} s and on the socket "
              f"{on_page_after:.1f} s after it came back")  # fmt: skip
        assert {name: stack.procs[name].poll() for name in PROCESSES} == dict.fromkeys(PROCESSES)
        after = stored(engine)
        assert set(before) <= set(after), "ticks stored before the restart went missing"
        assert len(after) == len(set(after))
        assert requests.get(f"{stack.base_url}/healthz", timeout=5).status_code == 200
        logs = {name: stack.log(name)[marks[name] :] for name in PROCESSES}
        for name, says in WAITING[server].items():
            assert says in logs[name], f"{name} did not log {says!r} while {server} was away"
        for name, says in BACK[server].items():
            assert says in logs[name], f"{name} did not log {says!r} once {server} was back"
        assert "Traceback" not in logs["bridge"] + logs["web"]
    except AssertionError:
        print(stack.dump_logs())
        raise
    finally:
        reader.close()


@pytest.mark.browser
def test_an_open_page_shows_new_prices_again_after_redis_restarts(page: Page, servers: OwnServers):
    wait_for_prices(page)
    expect(page.locator("#connection")).to_have_text("live")
    updated = card(page, "BTC-USD").locator(".meta")
    servers.stop("redis")
    time.sleep(OUTAGE_SECONDS)
    shown = updated.text_content()
    servers.start("redis")
    expect(updated).not_to_have_text(shown or "", timeout=30_000)  # a tick newer than any before the stop
    expect(updated).to_have_text(re.compile(r"^updated "))
    expect(page.locator("#connection")).to_have_text("live")
