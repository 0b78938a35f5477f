"""The whole pipeline as separate processes, started with the Procfile's own commands:
beat → fetch task → Kafka → bridge → persist / alert tasks → PostgreSQL and Redis → web → WebSocket.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from config.settings import PROJECT_ROOT, load_settings
from devstack.run import process_env, procfile_commands
from devstack.servers import free_port
from tests.integration.helpers import wait_for

PROCESSES = ("web", "worker", "beat", "bridge")


@dataclass
class Stack:
    base_url: str
    logs: dict[str, Path]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def dump_logs(self) -> str:
        return "\n".join(f"--- {name}\n{path.read_text()[-3000:]}" for name, path in self.logs.items())


@pytest.fixture(scope="module")
def stack(app, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs_dir = tmp_path_factory.mktemp("e2e-logs")
    env_values = server_env | {"WEB_PORT": str(free_port()), "WEB_THREADS": "8"}
    env = process_env(load_settings(env_values), env_values)
    commands = procfile_commands()
    running = Stack(base_url=f"http://127.0.0.1:{env_values['WEB_PORT']}", logs={})
    try:
        for name in PROCESSES:
            running.logs[name] = logs_dir / f"{name}.log"
            with open(running.logs[name], "wb") as out:
                running.procs[name] = subprocess.Popen(  # noqa: S602 - the Procfile's own command line
                    commands[name], shell=True, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
        wait_for(lambda: healthy(running.base_url), 60, "the web process to answer /healthz")
        yield running
    finally:
        # Each command runs under `sh -c` in a session of its own: signal the whole group.
        for proc in running.procs.values():
            os.killpg(proc.pid, signal.SIGTERM)
        stuck = [name for name, proc in running.procs.items() if not group_ended(proc, timeout=20)]
        for name in stuck:
            os.killpg(running.procs[name].pid, signal.SIGKILL)
        assert not stuck, f"{stuck} did not stop on SIGTERM within 20 s"


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


class SocketReader:
    """Reads every message of a WebSocket into a list, in a thread."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=30)
        self.messages: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while data := self.ws.recv():  # "" once the server closes the socket
                self.messages.append(json.loads(data))
        except (websocket.WebSocketException, OSError):
            return

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in list(self.messages) if m["type"] == kind]

    def close(self) -> None:
        self.ws.close()


def test_ticks_flow_to_postgres_and_the_browser_and_an_alert_fires_once(stack: Stack):
    try:
        reader = SocketReader(stack.base_url.replace("http", "ws") + "/ws")
        prices = wait_for(lambda: reader.of_type("price"), 60, "a price message on the WebSocket")
        assert prices[0]["source"] == "simulated"
        latest = wait_for(
            lambda: (
                len(rows := requests.get(f"{stack.base_url}/api/prices/latest", timeout=5).json()["prices"]) == 3
                and rows
            ),
            30,
            "a stored price for every symbol",
        )
        btc = next(p for p in latest if p["symbol"] == "BTC-USD")
        history = requests.get(f"{stack.base_url}/history/BTC-USD", timeout=5).json()["points"]
        assert len(history) >= 1 and history[-1]["price"] == btc["price"]

        threshold = str((Decimal(str(btc["price"])) * Decimal("0.98")).quantize(Decimal("0.01")))
        created = requests.post(
            f"{stack.base_url}/api/alerts",
            json={"symbol": "BTC-USD", "direction": "above", "threshold": threshold},
            timeout=5,
        )
        assert created.status_code == 201, created.text
        alert_id = created.json()["alert"]["id"]
        fired = wait_for(
            lambda: [m for m in reader.of_type("alert") if m["alert"]["id"] == alert_id], 30, "the alert on the socket"
        )
        # A few more ticks go through: the alert must not be announced again.
        seen = len(reader.of_type("price"))
        wait_for(lambda: len(reader.of_type("price")) >= seen + 6, 30, "six more price messages")
        assert len([m for m in reader.of_type("alert") if m["alert"]["id"] == alert_id]) == 1
        assert fired[0]["alert"]["status"] == "triggered"
        assert fired[0]["alert"]["triggered_price"] >= float(threshold)
        triggered = requests.get(f"{stack.base_url}/api/alerts?status=triggered", timeout=5).json()["alerts"]
        assert [a["id"] for a in triggered] == [alert_id]
        status = requests.get(f"{stack.base_url}/api/status", timeout=5).json()["pipeline"]
        assert status["fetch"]["source"] == "simulated" and status["persist"]["stored"] >= 1
        reader.close()
    except AssertionError:
        print(stack.dump_logs())
        raise
