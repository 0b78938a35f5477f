"""Fanout benchmark: N dashboards' worth of /ws clients on the web process as the Procfile starts
it, while ticks flow. Every client must get every tick; plain HTTP must stay quick meanwhile.

Delivery latency is the client's receive time minus the tick's ``received_at`` (the fetch's
clock, same machine): fetch → Kafka → bridge → persist → Redis → relay → socket.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import websockets

CONNECT_BATCH = 100  # sockets opened at once, so the listen backlog never overflows


@dataclass
class Client:
    keys: dict[tuple[str, str], float] = field(default_factory=dict)  # (symbol, observed_at): fetched at
    latencies: list[float] = field(default_factory=list)
    connected: bool = False


@dataclass
class FanoutResult:
    clients: int
    connected: int
    complete: int  # clients that got every tick published during the window
    ticks: int
    delivery_p50_ms: float
    delivery_p99_ms: float
    http_p99_ms: float
    http_failures: int
    web_rss_mb: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def prices_in(frame: dict) -> list[dict]:
    """A frame holds one price or a batch of them ({"type": "prices", "prices": [...]})."""
    if frame.get("type") == "price":
        return [frame]
    if frame.get("type") == "prices":
        return frame["prices"]
    return []


async def _listen(url: str, client: Client, stop: asyncio.Event) -> None:
    async with websockets.connect(url, open_timeout=60, ping_interval=None, max_queue=None) as ws:
        client.connected = True
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.time()
            for price in prices_in(json.loads(raw)):
                fetched = datetime.fromisoformat(price["received_at"]).timestamp()
                client.keys[(price["symbol"], price["observed_at"])] = fetched
                client.latencies.append(now - fetched)


def _http_probe(url: str, stop: asyncio.Event, latencies: list[float], failures: list[int]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=8) as response:  # noqa: S310 - our own URL
                response.read()
            latencies.append(time.perf_counter() - started)
        except OSError:
            failures.append(1)
        time.sleep(0.1)


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return pids


async def _run(base_url: str, count: int, seconds: float, web_pgid: int) -> FanoutResult:
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    stop = asyncio.Event()
    clients = [Client() for _ in range(count)]
    tasks = []
    for start in range(0, count, CONNECT_BATCH):
        for client in clients[start : start + CONNECT_BATCH]:
            tasks.append(asyncio.create_task(_listen(ws_url, client, stop)))
        await asyncio.sleep(0.2)
    deadline = time.monotonic() + 60
    while sum(c.connected for c in clients) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # every socket subscribed before the window opens
    window_start = time.time()
    for client in clients:
        client.keys.clear()
        client.latencies.clear()
    http_latencies: list[float] = []
    http_failures: list[int] = []
    probe = asyncio.create_task(
        asyncio.to_thread(_http_probe, f"{base_url}/api/prices/latest", stop, http_latencies, http_failures)
    )
    await asyncio.sleep(seconds)
    window_end = time.time()
    rss = rss_mb(group_pids(web_pgid))
    await asyncio.sleep(2)  # the window's last ticks reach every client
    stop.set()
    await probe
    await asyncio.gather(*tasks, return_exceptions=True)
    # Every tick fetched inside the window, as any client saw it: each client must have them all.
    published = {k for c in clients for k, fetched in c.keys.items() if window_start <= fetched <= window_end}
    latencies = [v for c in clients for v in c.latencies]
    return FanoutResult(
        clients=count,
        connected=sum(c.connected for c in clients),
        complete=sum(1 for c in clients if c.connected and published <= c.keys.keys()),
        ticks=len(published),
        delivery_p50_ms=percentile(latencies, 0.5) * 1000,
        delivery_p99_ms=percentile(latencies, 0.99) * 1000,
        http_p99_ms=percentile(http_latencies, 0.99) * 1000,
        http_failures=len(http_failures),
        web_rss_mb=rss,
    )


def run_fanout(base_url: str, count: int, seconds: float, web_pgid: int) -> FanoutResult:
    """Hold ``count`` sockets for ``seconds`` while ticks flow; see the module docstring."""
    return asyncio.run(_run(base_url, count, seconds, web_pgid))


def summary(result: FanoutResult) -> str:
    return (
        f"fanout: {result.complete}/{result.clients} clients got all {result.ticks} ticks "
        f"({result.connected} connected); delivery p50 {result.delivery_p50_ms:.0f} ms, "
        f"p99 {result.delivery_p99_ms:.0f} ms; HTTP p99 {result.http_p99_ms:.0f} ms "
        f"({result.http_failures} failed); web RSS {result.web_rss_mb:.0f} MB"
    )
