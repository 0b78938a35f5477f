"""The WebSocket relay under the gevent web worker: a client that stops reading is cut off with a
reason and nobody else waits for it."""

from __future__ import annotations

import socket
import struct
import time

from app.pipeline.pubsub import PRICES_CHANNEL, publish
from bench.fanout import run_fanout
from devstack.processes import Stack
from tests.integration.helpers import wait_for, ws_handshake
from tests.integration.test_end_to_end import SocketReader

BIG = "x" * 50_000
COUNT = 300


def silent_socket(base_url: str) -> socket.socket:
    """A WebSocket that completes the handshake and then never reads (a frozen tab)."""
    return ws_handshake(base_url, receive_buffer=4096)


def test_a_client_that_stops_reading_is_closed_and_delays_nobody(stack: Stack, redis_client):
    frozen = silent_socket(stack.base_url)
    reader = SocketReader(stack.base_url.replace("http", "ws") + "/ws")
    try:
        wait_for(lambda: redis_client.pubsub_numsub(PRICES_CHANNEL)[0][1] >= 1, 10, "the relay's subscription")
        time.sleep(1)  # both sockets subscribed
        started = time.monotonic()
        for n in range(COUNT):  # 15 MB in 1.5 s: more than a frozen socket's buffers and the 8 MiB it may queue
            publish(redis_client, PRICES_CHANNEL, [{"type": "bulk", "n": n, "pad": BIG}])
            time.sleep(0.005)
        wait_for(lambda: len([m for m in reader.messages if m["type"] == "bulk"]) == COUNT, 30, "every message")
        assert time.monotonic() - started < 30
        assert [m["n"] for m in reader.messages if m["type"] == "bulk"] == list(range(COUNT))  # all, in order
        # cut off: too much waited for it while the reader got everything in time
        said = "closing a WebSocket client that stopped reading"
        wait_for(lambda: said in stack.log("web"), 10, "the frozen one cut off")
        assert stack.log("web").count(said) == 1  # that one only
    finally:  # a socket left open would warn in whichever later test the collector found it
        frozen.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # drop what is in flight
        frozen.close()
        reader.close()


def test_the_fanout_benchmark_runs(stack: Stack):
    result = run_fanout(stack, count=20, seconds=5)
    assert (result.connected, result.complete) == (20, 20)
    assert result.ticks >= 2 and result.http_failures == 0 and result.web_rss_mb > 0
    assert 0 <= result.published_p50_ms <= result.delivery_p99_ms


def test_subscribers_get_every_tick_they_show_in_fewer_bytes(stack: Stack):
    """The benchmark's pages that show one symbol of three (keeping the others) must each get every
    tick of it, in well under half the bytes of clients that never subscribed."""
    legacy = run_fanout(stack, count=10, seconds=5)
    pages = run_fanout(stack, count=10, seconds=5, views=lambda n: (["BTC-USD"], ["ETH-USD", "DOGE-USD"]))
    assert (pages.connected, pages.complete) == (10, 10) and pages.ticks >= 2
    assert legacy.complete == 10 and legacy.fetches >= 2 and pages.fetches >= 2
    assert pages.bytes_per_fetch * 2 < legacy.bytes_per_fetch, (pages.bytes_per_fetch, legacy.bytes_per_fetch)
