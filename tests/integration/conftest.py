"""Real PostgreSQL, Redis and Kafka (Tansu) for the whole test session, on free ports.

Started once from the same code ``make run`` uses (devstack.servers), in a
temporary folder, and stopped at the end. Each test starts from empty tables,
an empty Redis and its own Kafka topic where it needs one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import requests
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.prices import sync_symbols
from app.services import ensure_topic
from config.settings import PROJECT_ROOT, Settings, load_settings
from devstack.run import process_env, procfile_commands
from devstack.servers import embedded_servers, free_port
from tests.conftest import IN_CI
from tests.integration.browser import CHROMIUM, CHROMIUM_FLAGS, open_page
from tests.integration.helpers import wait_for

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


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty tables and Redis before each test that uses the servers."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    settings: Settings = request.getfixturevalue("settings")
    with app.app_context():
        db.session.execute(
            text("TRUNCATE ticks, alerts, channels, alert_channels, alert_events, deliveries RESTART IDENTITY")
        )
        db.session.commit()
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


PROCESSES = ("web", "worker", "beat", "bridge")


@dataclass
class Stack:
    """Project processes started from their Procfile command lines, each in a session of its own."""

    env: dict[str, str]
    logs_dir: Path
    base_url: str = ""
    logs: dict[str, Path] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: str) -> None:
        self.logs[name] = self.logs_dir / f"{name}.log"
        with open(self.logs[name], "wb") as out:
            self.procs[name] = subprocess.Popen(  # noqa: S602 - the Procfile's own command line
                command, shell=True, env=self.env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def stop(self, *names: str) -> None:
        """SIGTERM to each process group (``sh -c`` and what it runs); fail if one lingers."""
        names = names or tuple(self.procs)
        for name in names:
            os.killpg(self.procs[name].pid, signal.SIGTERM)
        stuck = [name for name in names if not group_ended(self.procs[name], timeout=20)]
        for name in stuck:
            os.killpg(self.procs[name].pid, signal.SIGKILL)
        for name in names:
            del self.procs[name]
        assert not stuck, f"{stuck} did not stop on SIGTERM within 20 s"

    def kill(self, name: str) -> None:
        """kill -9 every process of ``name``'s group, as a crash would."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        assert group_ended(self.procs.pop(name), timeout=10), f"{name} survived SIGKILL"

    def log(self, name: str) -> str:
        return self.logs[name].read_text()

    def dump_logs(self) -> str:
        return "\n".join(f"--- {name}\n{path.read_text()[-3000:]}" for name, path in self.logs.items())


def stack_env(server_env: dict[str, str], **changes: str) -> dict[str, str]:
    values = server_env | changes
    return process_env(load_settings(values), values)


@contextmanager
def running_stack(server_env: dict[str, str], logs_dir: Path, **changes: str) -> Iterator[Stack]:
    """web, worker, beat and bridge against the session's servers, with ``changes`` to their environment."""
    port = free_port()
    running = Stack(stack_env(server_env, WEB_PORT=str(port), WEB_THREADS="8", **changes), logs_dir)
    running.base_url = f"http://127.0.0.1:{port}"
    commands = procfile_commands()
    try:
        for name in PROCESSES:
            running.start(name, commands[name])
        try:
            wait_for(lambda: healthy(running.base_url), 60, "the web process to answer /healthz")
        except AssertionError:
            print(running.dump_logs())
            raise
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def stack(app, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack for one test module."""
    with running_stack(server_env, tmp_path_factory.mktemp("stack-logs")) as running:
        yield running


def group_ended(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until every process of ``proc``'s process group has exited."""

    def gone() -> bool:
        proc.poll()
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        return False

    try:
        wait_for(gone, timeout, "the process group to exit")
    except AssertionError:
        return False
    return True


def healthy(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


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
