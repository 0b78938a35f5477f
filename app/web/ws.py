"""WebSocket relay: Redis pub/sub → every open /ws socket of this process.

One listener (a thread; a greenlet under gunicorn's gevent worker) per process subscribes to
the channels and fans each message out to a bounded queue per client; the listener restarts
with exponential backoff when Redis goes away, and a client is removed in ``finally`` however
it leaves. A client that stopped reading (MAX_LAG_SECONDS behind, or MAX_QUEUED_BYTES waiting)
is closed with a reason instead of slowing anyone: its page reconnects and catches up by REST.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import redis
from flask import current_app
from simple_websocket import ConnectionClosed

from app.extensions import sock
from app.pipeline.pubsub import CHANNELS

log = logging.getLogger(__name__)

# A client is cut when it has not read for this long (its oldest queued frame is older) or when
# what waits for it passes this size: judged by time and bytes, not by a count of messages, so a
# burst (many alerts at once, a big watchlist) never cuts a page that keeps reading.
MAX_LAG_SECONDS = 30.0
MAX_QUEUED_BYTES = 8 * 1024 * 1024  # ~2 minutes of 500-symbol price frames
MAX_BACKOFF_SECONDS = 30.0
TOO_SLOW = (1013, "too slow: reconnect and catch up")  # 1013 "try again later"
GOING_AWAY = (1001, "server going away: reconnect")  # the process stops; the page reconnects


def text_frame(data: str) -> bytes:
    """One unfragmented, unmasked server-to-client text frame (RFC 6455 section 5.2)."""
    payload = data.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


class Subscriber:
    """One socket's frames waiting to be sent; ``lagging`` once it stopped keeping up."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._frames: deque[tuple[bytes, float]] = deque()  # (frame, when it was queued)
        self._bytes = 0
        self._ready = threading.Condition()
        self._clock = clock
        self.lagging = threading.Event()
        self.going_away = threading.Event()  # the process stops: close with GOING_AWAY
        self.ws: Any = None  # set by the handler, so a stuck send can be cut short

    def get(self, timeout: float) -> bytes:
        """The next frame; queue.Empty after ``timeout`` seconds without one, or at once when the
        process is going away."""
        with self._ready:
            arrived = self._ready.wait_for(lambda: bool(self._frames) or self.going_away.is_set(), timeout)
            if not arrived or not self._frames:
                raise queue.Empty
            frame, _ = self._frames.popleft()
            self._bytes -= len(frame)
            return frame

    def empty(self) -> bool:
        with self._ready:
            return not self._frames

    def offer(self, frame: bytes) -> None:
        if self.lagging.is_set():
            return
        now = self._clock()
        with self._ready:
            waited = now - self._frames[0][1] if self._frames else 0.0
            behind = waited > MAX_LAG_SECONDS or self._bytes + len(frame) > MAX_QUEUED_BYTES
            if not behind:
                self._frames.append((frame, now))
                self._bytes += len(frame)
                self._ready.notify()
        if behind:
            self.lagging.set()
            log.warning(
                "closing a WebSocket client that stopped reading (%.0f s behind, %d KiB waiting)",
                waited, self._bytes // 1024,
            )  # fmt: skip
            self._cut()

    def leave(self) -> None:
        """The process stops: the handler closes its socket with GOING_AWAY now."""
        self.going_away.set()
        with self._ready:
            self._ready.notify()

    def _cut(self) -> None:
        """A handler blocked in send (the peer reads nothing) never sees the flag: end its socket."""
        sock = getattr(self.ws, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Relay:
    def __init__(self, redis_url: str) -> None:
        self._redis_url = redis_url
        self._clients: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._closed = threading.Event()

    def subscribe(self) -> Subscriber:
        client = Subscriber()
        with self._lock:
            if self._pid != os.getpid():  # first client in this (possibly forked) process
                self._pid = os.getpid()
                threading.Thread(target=self._listen, name="ws-relay", daemon=True).start()
            self._clients.add(client)
        return client

    def unsubscribe(self, client: Subscriber) -> None:
        with self._lock:
            self._clients.discard(client)

    def close(self) -> None:
        """Stop the listener thread (within a second)."""
        self._closed.set()

    def close_clients(self) -> None:
        """Close every socket of this process with 1001 "going away" (the server stops): pages
        reconnect at once, and the process need not wait for them to leave."""
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            client.leave()

    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    def _fan_out(self, data: str) -> None:
        frame = text_frame(data)  # framed once for every socket of this process
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            client.offer(frame)

    def _listen(self) -> None:
        backoff = 0.5
        while not self._closed.is_set():
            try:
                with redis.Redis.from_url(self._redis_url).pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(*CHANNELS)
                    log.info("WebSocket relay subscribed to %s", ", ".join(CHANNELS))
                    backoff = 0.5
                    while not self._closed.is_set():
                        message = pubsub.get_message(timeout=1.0)
                        if message is not None and message["type"] == "message":
                            self._fan_out(message["data"].decode())
            except redis.RedisError as exc:
                log.warning("WebSocket relay lost Redis (%s); retrying in %.1f s", exc, backoff)
                self._closed.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


def _drop_client_messages(ws: Any) -> None:
    """The feed only speaks: whatever a client sends is read and dropped, so nothing piles up
    (frames over max_message_size already closed that socket with 1009)."""
    while ws.receive(timeout=0) is not None:
        pass


@sock.route("/ws")
def websocket(ws: Any) -> None:
    relay: Relay = current_app.extensions["relay"]
    client = relay.subscribe()
    client.ws = ws
    try:
        while ws.connected:
            if client.lagging.is_set() or client.going_away.is_set():
                ws.close(*(TOO_SLOW if client.lagging.is_set() else GOING_AWAY))
                break
            _drop_client_messages(ws)
            try:
                frame = client.get(timeout=1.0)
            except queue.Empty:
                continue  # re-check ws.connected; flask-sock pings keep the socket alive
            # The frame is already made (once per message, not once per socket); sendall, unlike
            # simple-websocket's send, never leaves half a frame on a busy socket.
            ws.sock.sendall(frame)
    except (ConnectionClosed, OSError):
        pass  # gone, or cut for lagging
    finally:
        relay.unsubscribe(client)
