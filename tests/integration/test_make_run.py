"""`make run` and `python -m devstack servers` as a person runs them, in a terminal of their own
(a process group, as a shell's job is): what the terminal shows, and how they stop (issue 20)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from config.settings import PROJECT_ROOT
from devstack.servers import free_port
from tests.integration.helpers import wait_for


class Terminal:
    """A command in its own process group, its output collected line by line with arrival times."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[tuple[float, str]] = []
        self.proc = subprocess.Popen(  # noqa: S603 - our own entry points
            args, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def since(self, moment: float) -> list[str]:
        return [line for at, line in self.lines if at >= moment]

    def signal(self, number: int) -> float:
        """Send ``number`` to the whole group (Ctrl-C does that with SIGINT); seconds until it exited."""
        sent = time.monotonic()
        os.killpg(self.proc.pid, number)
        self.proc.wait(timeout=60)
        return time.monotonic() - sent

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group outlives its leader
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.reader.join(timeout=10)  # the pipe ends when the last of the group is gone
        if self.proc.stdout is not None and not self.reader.is_alive():
            self.proc.stdout.close()


def close_code(page: websocket.WebSocket) -> int | None:
    """The code of the close frame the server sends (None: the connection just ended)."""
    try:
        while True:
            frame = page.recv_data_frame(control_frame=True)[1]
            if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
                return int.from_bytes(frame.data[:2], "big")
    except (websocket.WebSocketConnectionClosedException, OSError):
        return None


def clean_env(data_dir: Path, **changes: str) -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "LOG_LEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    names = ("WEB_PORT", "FLOWER_PORT", "EMBEDDED_REDIS_PORT", "EMBEDDED_KAFKA_PORT")
    ports = {name: str(free_port()) for name in names}
    return env | ports | {"DATA_DIR": str(data_dir), "PRICE_SOURCE": "simulated"} | changes


def leftovers(data_dir: Path, env: dict[str, str]) -> list[str]:
    """Processes still running that belong to this run: its data folder or ports in their command
    (the servers), or its data folder in their environment (the app's processes). Zombies aside."""
    marks = (str(data_dir), f":{env['EMBEDDED_REDIS_PORT']}", f":{env['EMBEDDED_KAFKA_PORT']}")
    ours = f"DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environment = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if not entry.name.isdigit() or not command or entry.name == str(os.getpid()):
            continue
        if any(mark in command for mark in marks) or ours in environment:
            found.append(f"{entry.name}: {command}")
    return found


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[Terminal, dict[str, str]]]:
    env = clean_env(tmp_path / "data")
    terminal = Terminal([sys.executable, "-m", "devstack", "run"], env)
    try:
        yield terminal, env
    finally:
        terminal.stop()


@pytest.mark.alone  # the 3 s are the machine's: not beside other tests
def test_make_run_says_where_the_dashboard_is_then_stays_quiet_and_stops_in_3_s_with_pages_open(make_run):
    terminal, env = make_run
    port = env["WEB_PORT"]
    try:
        wait_for(lambda: "Stock Ticker is up: " in terminal.text(), 180, "the line saying the stack is up")
    except AssertionError:
        print(terminal.text())
        raise
    assert f"Stock Ticker is up: http://localhost:{port}  (Flower: http://localhost:{env['FLOWER_PORT']})" in (
        terminal.text()
    )
    time.sleep(3)  # start-up lines honcho still has queued (the "up" line is printed beside it)
    quiet_from = time.monotonic()
    pages = [websocket.create_connection(f"ws://127.0.0.1:{port}/ws", timeout=10) for _ in range(3)]
    try:
        for page in pages:
            assert page.recv()  # a live frame
        time.sleep(10)  # 5 fetches: about 40 INFO lines here before
        said = [line for line in terminal.since(quiet_from) if line.strip()]
        assert len(said) <= 2, "\n".join(said)

        seconds = terminal.signal(signal.SIGINT)  # Ctrl-C
        assert seconds < 3, f"stopped after {seconds:.1f} s\n{terminal.text()[-3000:]}"
        assert "SIGKILL" not in terminal.text()
        assert [close_code(page) for page in pages] == [1001] * 3  # "going away": pages reconnect at once
    finally:
        for page in pages:
            page.shutdown()  # close() does nothing to a socket the server closed
    assert leftovers(Path(env["DATA_DIR"]), env) == []


def test_devstack_servers_stops_on_sigterm_as_on_ctrl_c(tmp_path: Path):
    """On SIGTERM it stopped Tansu, then hung with Redis and PostgreSQL running: they had inherited
    the signal mask that blocked SIGTERM while it waited for one."""
    env = clean_env(tmp_path / "data")
    for number in (signal.SIGTERM, signal.SIGINT):
        terminal = Terminal([sys.executable, "-m", "devstack", "servers"], env)
        try:
            wait_for(lambda t=terminal: "export KAFKA_BOOTSTRAP_SERVERS=" in t.text(), 120, "the servers' URLs")
            terminal.proc.send_signal(number)  # the process alone: a supervisor's or CI's stop
            started = time.monotonic()
            terminal.proc.wait(timeout=30)
            assert time.monotonic() - started < 5, terminal.text()
            assert "Failed to stop" not in terminal.text()
            assert leftovers(tmp_path / "data", env) == []
        finally:
            terminal.stop()


def test_make_run_killed_9_leaves_no_process_behind(make_run):
    """A kill -9 of make run left the app's processes running for ever, orphaned and without
    servers (each supervisor sat in a session of its own); now they end with it."""
    terminal, env = make_run
    wait_for(lambda: "Stock Ticker is up: " in terminal.text(), 180, "the line saying the stack is up")
    assert len(leftovers(Path(env["DATA_DIR"]), env)) > 5  # the servers and the app's processes
    os.kill(terminal.proc.pid, signal.SIGKILL)  # make run's own process, not its group
    terminal.proc.wait(timeout=10)
    try:
        wait_for(lambda: leftovers(Path(env["DATA_DIR"]), env) == [], 20, "every process of the run gone")
    except AssertionError:
        print("\n".join(leftovers(Path(env["DATA_DIR"]), env)))
        raise
