"""Small helpers for the integration tests: ticks to feed, and waiting on conditions."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import websocket

from app.alerting.alerts import create_alert
from app.market.ticks import Tick
from app.web.validation import parse_alert
from devstack.processes import Stack

T = TypeVar("T")
T0 = datetime.now(UTC).replace(microsecond=0)


def tick(symbol: str, price: str, seconds: int = 0, source: str = "simulated") -> Tick:
    observed = T0 + timedelta(seconds=seconds)
    return Tick(symbol, Decimal(price), observed, datetime.now(UTC), source)


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll until ``check`` returns something truthy; fail the test naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def make_alert(symbol: str, rule: str, threshold: str | None = None, **fields: object) -> int:
    """Create an alert through the API's own parsing (inside an app context); returns its id."""
    body = {"symbol": symbol, "rule": rule, "threshold": threshold} | fields
    return create_alert(parse_alert({k: v for k, v in body.items() if v is not None}))["id"]


def ws_handshake(base_url: str, receive_buffer: int | None = None, origin: str | None = None) -> socket.socket:
    """A raw WebSocket to /ws after its handshake, for frames no client library would send."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    key = base64.b64encode(os.urandom(16)).decode()
    extra = f"Origin: {origin}\r\n" if origin else ""
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n".encode()
    )
    answer = sock.recv(1024)
    assert b"101 Switching Protocols" in answer, answer[:200]
    return sock


def pool_children(stack: Stack, name: str = "worker") -> list[int]:
    """Pids of the Celery pool processes: the celery processes whose parent is the worker's main one."""
    group = stack.procs[name].pid
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and b"celery" in command and not command.startswith(b"/bin/sh"):
            parents[int(entry.name)] = int(fields[1])
    mains = [pid for pid, parent in parents.items() if parent not in parents]
    return sorted(pid for pid, parent in parents.items() if mains and parent == mains[0])


class SocketReader:
    """Reads every message of a WebSocket into a list, in a thread."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        self.ws = websocket.create_connection(url, timeout=timeout)  # also the longest silence it waits out
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
        """Messages of a kind; "price" gives each price of the batch frames ("prices") too, and
        "alert" each fire of the "alerts" frames, as an "alert" message."""
        messages = list(self.messages)
        if kind == "price":
            return [p for m in messages if m["type"] == "prices" for p in m["prices"]]
        if kind == "alert":
            return [{"type": "alert", "alert": a} for m in messages if m["type"] == "alerts" for a in m["alerts"]]
        return [m for m in messages if m["type"] == kind]

    def close(self) -> None:
        self.ws.close()
