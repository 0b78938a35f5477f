"""Servers of a test module's own, each of which can be stopped (or killed) and started again at
the same address: stopping the session's servers would break other tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.servers import free_port, start_kafka, start_postgres, start_redis

URL_SETTINGS = {"postgres": "DATABASE_URL", "redis": "REDIS_URL", "kafka": "KAFKA_BOOTSTRAP_SERVERS"}


class OwnServers:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.ports = {"redis": free_port(), "kafka": free_port()}
        self.env: dict[str, str] = {}
        self._stops: dict[str, Callable[..., None]] = {}

    def start(self, name: str) -> None:
        if name == "postgres":
            url, stop = start_postgres(self.root / "postgres")
        elif name == "redis":
            url, stop = start_redis(self.ports["redis"], self.root / "redis" / "redis.log")
        else:
            url, stop = start_kafka(self.ports["kafka"], self.root / "kafka" / "tansu.log")
        assert self.env.setdefault(URL_SETTINGS[name], url) == url, f"{name} came back elsewhere"
        self._stops[name] = stop

    def stop(self, name: str) -> None:
        self._stops.pop(name)()

    def kill_redis(self, wipe: bool = False) -> None:
        """kill -9 redis-server, as a crash would; with ``wipe`` its data folder goes too (a new disk)."""
        self._stops.pop("redis")(kill=True)
        if wipe:
            folder = self.root / "redis"
            for entry in folder.iterdir():
                if entry.name != "redis.log":
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    def stop_all(self) -> None:
        for name in list(self._stops):
            self.stop(name)


@contextmanager
def own_servers(root: Path) -> Iterator[OwnServers]:
    """PostgreSQL, Redis and a Kafka broker of the caller's own under ``root``, stopped at the end."""
    own = OwnServers(root)
    try:
        for name in URL_SETTINGS:
            own.start(name)
        yield own
    finally:
        own.stop_all()
