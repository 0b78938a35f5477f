"""Fanout benchmark: N dashboards' worth of /ws clients on the web process as the Procfile starts
it, while ticks flow. Every client must get every tick; plain HTTP must stay quick meanwhile.

Delivery latency is the client's receive time minus the tick's ``received_at`` (when the source
answered the fetch; same machine, same clock): produce → Kafka → bridge → persist → Redis → relay
→ socket. A subscriber on the Redis channel splits it: how much is spent before the web tier.
The clients are ``bench.wsclient`` (see there why not a full client library).

A client either subscribes as a page does (``views``: the symbols it shows, the rest it keeps) and
must get every tick of the symbols it shows, its latency counted on those; or it never subscribes
and must get every tick. Bytes per fetch: what all clients received in the window, per fetch.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import redis

from app.pipeline.pubsub import PRICES_CHANNEL
from bench import wsclient
from devstack.processes import Stack

CONNECT_BATCH = 100  # sockets opened at once, so the listen backlog never overflows


@dataclass(eq=False)  # one object per distinct message: identity is equality
class Frame:
    """One distinct message as every client got it: parsed once, however many sockets carry it."""

    number: int
    keys: frozenset[tuple[str, int]]  # (symbol, observed_at in epoch ms) of its prices
    fetched: dict[float, int]  # fetch time (received_at) -> how many of its prices carry it
    by_symbol: dict[str, float]  # symbol -> its price's fetch time
    size: int  # bytes of the message

    @property
    def first_fetched(self) -> float:
        return min(self.fetched, default=float("inf"))


class Frames:
    def __init__(self) -> None:
        self.by_content: dict[tuple[int, int], Frame] = {}

    def get(self, raw: bytes) -> Frame:
        key = (len(raw), zlib.crc32(raw))  # cheaper than hashing 75 KB a thousand times
        frame = self.by_content.get(key)
        if frame is None:
            prices = prices_in(json.loads(raw))  # (symbol, observed_at ms, received_at s)
            fetched: dict[float, int] = {}
            for _, _, at in prices:
                fetched[at] = fetched.get(at, 0) + 1
            keys = frozenset((symbol, observed) for symbol, observed, _ in prices)
            by_symbol = {symbol: at for symbol, _, at in prices}
            frame = self.by_content[key] = Frame(len(self.by_content), keys, fetched, by_symbol, len(raw))
        return frame


@dataclass
class Client:
    shows: frozenset[str] | None = None  # what it subscribed to see at every fetch; None: never subscribed
    keeps: frozenset[str] = frozenset()
    received: list[tuple[Frame, float]] = field(default_factory=list)  # (frame, receive time)
    connected: bool = False


@dataclass
class FanoutResult:
    clients: int
    connected: int
    complete: int  # clients that got every tick published during the window
    ticks: int
    delivery_p50_ms: float
    delivery_p99_ms: float
    published_p50_ms: float  # fetch -> Redis PUBLISH, as a Redis subscriber sees it
    published_p99_ms: float
    http_p99_ms: float
    http_failures: int
    web_rss_mb: float
    bytes_per_fetch: float  # what every client received, per fetch in the window
    fetches: int


class Histogram:
    """Latencies in 1 ms bins: millions of (client, price) samples at constant memory."""

    def __init__(self) -> None:
        self.bins: dict[int, int] = {}

    def add(self, seconds: float, count: int = 1) -> None:
        ms = max(0, round(seconds * 1000))
        self.bins[ms] = self.bins.get(ms, 0) + count

    def percentile(self, q: float) -> float:
        total = sum(self.bins.values())
        if not total:
            return float("nan")
        rank, seen = q * (total - 1), 0
        for ms in sorted(self.bins):
            seen += self.bins[ms]
            if seen > rank:
                return float(ms)
        return float(max(self.bins))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def prices_in(frame: dict) -> list[tuple[str, int, float]]:
    """(symbol, observed_at in epoch ms, received_at in epoch s) of each price of a frame: the old
    frame's objects ({"type": "prices"} or one "price") or the compact one's rows ("ticks")."""
    if frame.get("type") == "ticks":
        return [(t[0], t[2], (t[2] + t[3]) / 1000) for t in frame["ticks"]]
    prices = (
        [frame] if frame.get("type") == "price" else frame.get("prices", []) if frame.get("type") == "prices" else []
    )
    return [(p["symbol"], round(_epoch(p["observed_at"]) * 1000), _epoch(p["received_at"])) for p in prices]


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def _listen(url: str, client: Client, frames: Frames, stop: asyncio.Event) -> None:
    def on_message(payload: bytes, received_at: float) -> None:
        client.received.append((frames.get(payload), received_at))

    reader = await wsclient.connect(url, on_message)
    if client.shows is not None:
        subscribe = {"type": "subscribe", "live": sorted(client.shows), "slow": sorted(client.keeps)}
        reader.send_text(json.dumps(subscribe))
    client.connected = True
    await stop.wait()
    reader.close()
    await asyncio.wait_for(reader.closed, 5)


def _redis_probe(redis_url: str, stop: asyncio.Event, frames: Frames, published: list[tuple[Frame, float]]) -> None:
    """The same messages as the relay gets them: how much of the latency is before the web tier."""
    with redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True) as pubsub:
        pubsub.subscribe(PRICES_CHANNEL)
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.5)
            if message is not None:
                published.append((frames.get(message["data"]), time.time()))


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


def rss_mb(pids: list[int], field: str = "VmRSS") -> float:
    """Resident memory of ``pids`` now (VmRSS), or at its peak (VmHWM)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
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


Views = Callable[[int], tuple[list[str], list[str]]]  # client number -> (symbols it shows, it keeps)


async def _run(
    base_url: str, redis_url: str, count: int, seconds: float, web_pgid: int, views: Views | None
) -> FanoutResult:
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    stop = asyncio.Event()
    frames = Frames()
    clients = [Client() for _ in range(count)]
    for number, client in enumerate(clients):
        if views is not None:
            shows, keeps = views(number)
            client.shows, client.keeps = frozenset(shows), frozenset(keeps)
    tasks = []
    for start in range(0, count, CONNECT_BATCH):
        for client in clients[start : start + CONNECT_BATCH]:
            tasks.append(asyncio.create_task(_listen(ws_url, client, frames, stop)))
        await asyncio.sleep(0.2)
    deadline = time.monotonic() + 60
    while sum(c.connected for c in clients) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # every socket subscribed before the window opens
    window_start = time.time()
    for client in clients:
        client.received.clear()
    http_latencies: list[float] = []
    http_failures: list[int] = []
    published: list[tuple[Frame, float]] = []
    probes = [
        asyncio.to_thread(_http_probe, f"{base_url}/api/prices/latest", stop, http_latencies, http_failures),
        asyncio.to_thread(_redis_probe, redis_url, stop, frames, published),
    ]
    probe_tasks = [asyncio.create_task(p) for p in probes]
    await asyncio.sleep(seconds)
    window_end = time.time()
    rss = rss_mb(group_pids(web_pgid))
    await asyncio.sleep(2)  # the window's last ticks reach every client
    stop.set()
    await asyncio.gather(*probe_tasks)
    await asyncio.gather(*tasks, return_exceptions=True)
    # Every tick fetched inside the window, as Redis carried it: each client must have every one of
    # those it shows (all of them, if it never subscribed), and its latency is counted on those.
    in_window = {
        (symbol, observed)
        for f, _ in published
        for symbol, observed in f.keys
        if window_start <= f.by_symbol[symbol] <= window_end
    }
    fetches = {at for f, _ in published for at in f.fetched if window_start <= at <= window_end}
    delivery, to_redis = Histogram(), Histogram()
    complete, received_bytes = 0, 0
    for client in clients:
        got: set[tuple[str, int]] = set()
        for frame, at in client.received:
            received_bytes += frame.size
            if client.shows is None:  # every price of every frame counts (a 500-price frame: whole)
                got |= frame.keys
                for fetched, n in frame.fetched.items():
                    delivery.add(at - fetched, n)
                continue
            for symbol, observed in frame.keys:
                if symbol in client.shows:  # what it keeps comes every 10 s by design: not a delay
                    got.add((symbol, observed))
                    delivery.add(at - frame.by_symbol[symbol])
        wanted = {k for k in in_window if client.shows is None or k[0] in client.shows}
        complete += client.connected and wanted <= got
    for frame, at in published:
        for fetched, n in frame.fetched.items():
            to_redis.add(at - fetched, n)
    return FanoutResult(
        clients=count,
        connected=sum(c.connected for c in clients),
        complete=complete,
        ticks=len(in_window),
        delivery_p50_ms=delivery.percentile(0.5),
        delivery_p99_ms=delivery.percentile(0.99),
        published_p50_ms=to_redis.percentile(0.5),
        published_p99_ms=to_redis.percentile(0.99),
        http_p99_ms=percentile(http_latencies, 0.99) * 1000,
        http_failures=len(http_failures),
        web_rss_mb=rss,
        bytes_per_fetch=received_bytes / max(1, len(fetches)),
        fetches=len(fetches),
    )


def run_fanout(stack: Stack, count: int, seconds: float, views: Views | None = None) -> FanoutResult:
    """Hold ``count`` sockets on the stack's web process for ``seconds`` while ticks flow; each
    subscribes as ``views`` says (none: never)."""
    return asyncio.run(_run(stack.base_url, stack.env["REDIS_URL"], count, seconds, stack.procs["web"].pid, views))


def summary(result: FanoutResult) -> str:
    return (
        f"fanout: {result.complete}/{result.clients} clients got all {result.ticks} ticks "
        f"({result.connected} connected); delivery p50 {result.delivery_p50_ms:.0f} ms, "
        f"p99 {result.delivery_p99_ms:.0f} ms (of which fetch -> Redis p50 {result.published_p50_ms:.0f} ms, "
        f"p99 {result.published_p99_ms:.0f} ms); HTTP p99 {result.http_p99_ms:.0f} ms "
        f"({result.http_failures} failed); web RSS {result.web_rss_mb:.0f} MB; "
        f"{result.bytes_per_fetch / 1e6:.2f} MB to the clients per fetch ({result.fetches} fetches)"
    )
