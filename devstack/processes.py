"""Project processes from their Procfile lines, each in a session (process group) of its own:
what the tests and the benchmarks run the stack with, and kill or pause parts of."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import PROJECT_ROOT, load_settings
from devstack.run import process_env, procfile_commands
from devstack.servers import ServerError, free_port, wait_until

PROCESSES = ("web", "worker", "beat", "bridge")


@dataclass
class Stack:
    """Project processes started from their Procfile command lines, each in a session of its own."""

    env: dict[str, str]
    logs_dir: Path
    base_url: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # what a client sends to be let in (API token)
    logs: dict[str, Path] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: str) -> None:
        self.logs[name] = self.logs_dir / f"{name}.log"
        with open(self.logs[name], "ab") as out:  # a restarted process adds to its log: the dead one's stays
            out.write(f"--- {name} started: {command}\n".encode())
            out.flush()
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
        if stuck:
            raise ServerError(f"{stuck} did not stop on SIGTERM within 20 s")

    def kill(self, name: str) -> None:
        """kill -9 every process of ``name``'s group, as a crash would."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        if not group_ended(self.procs.pop(name), timeout=10):
            raise ServerError(f"{name} survived SIGKILL")

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
    running = Stack(stack_env(server_env, WEB_PORT=str(port), **changes), logs_dir)
    running.base_url = f"http://127.0.0.1:{port}"
    commands = procfile_commands()
    try:
        for name in PROCESSES:
            running.start(name, commands[name])
        try:
            wait_until(lambda: healthy(running.base_url), 60, "the web process (/healthz)")
        except ServerError:
            print(running.dump_logs())
            raise
        yield running
    finally:
        running.stop()


def group_ended(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until every process of ``proc``'s process group has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.poll()
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def healthy(base_url: str, path: str = "/healthz") -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}{path}", timeout=2) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_web(server_env: dict[str, str], logs_dir: Path, **changes: str) -> Iterator[Stack]:
    """The web process alone (no ticks flowing, so /healthz may well say 503: ready is /api/symbols)."""
    port = free_port()
    running = Stack(stack_env(server_env, WEB_PORT=str(port), **changes), logs_dir)
    running.base_url = f"http://127.0.0.1:{port}"
    try:
        running.start("web", procfile_commands()["web"])
        wait_until(lambda: healthy(running.base_url, "/api/symbols"), 60, "the web process (/api/symbols)")
        yield running
    finally:
        running.stop()
