"""WebSocket relay: Redis pub/sub → every open /ws socket of this process.

Prices go to each socket as it asked (app/web/price_frames.py): a page that subscribed gets the
symbols it shows at every fetch and the others it keeps every SLOW_SECONDS, in the compact frame;
a socket that never subscribed gets every price in the frame it always had. Every other message
goes to every socket as published.

One listener (a thread; a greenlet under gunicorn's gevent worker) per process subscribes to
the channels and fans each message out to a bounded queue per client; the listener restarts
with exponential backoff when Redis goes away, and a client is removed in ``finally`` however
it leaves. A client that stopped reading (MAX_LAG_SECONDS behind, or MAX_QUEUED_BYTES waiting)
is closed with a reason instead of slowing anyone: its page reconnects and catches up by REST.
"""

from __future__ import annotations

import contextlib
import json
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
from app.web.price_frames import (
    SLOW_SECONDS,
    Encoder,
    Subscription,
    SubscriptionError,
    Symbols,
    error_message,
    parse_subscription,
    pick,
)

log = logging.getLogger(__name__)

# A client is cut when it has not read for this long (its oldest queued frame is older) or when
# what waits for it passes this size: judged by time and bytes, not by a count of messages, so a
# burst (many alerts at once, a big watchlist) never cuts a page that keeps reading.
MAX_LAG_SECONDS = 30.0
MAX_QUEUED_BYTES = 8 * 1024 * 1024  # ~2 minutes of 500-symbol price frames
MAX_BACKOFF_SECONDS = 30.0
SLOW_GROUPS = 5  # the sockets take turns for their slow rounds: one group every 2 s
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
        self.subscription: Subscription | None = None  # None: every price, in the old frame
        self.group = 0  # its turn in the slow rounds
        # A non-blocking descriptor of the socket (our own dup: never closed under us, never reused
        # for another socket while we hold it) that offer writes to while the handler is idle.
        self._fd: int | None = None
        self._sending = False  # the handler holds a frame it is writing

    def write_directly(self, fd: int) -> None:
        """Let offer write frames straight to this descriptor when nothing waits and the handler
        is not writing: one system call per socket, where a wake-up of its handler costs a switch
        and a lock each (gevent: the listener does the fan-out's writes itself). Takes ``fd``."""
        with self._ready:
            self._fd = fd

    def stop_writing(self) -> None:
        """The handler is done with the socket: offer writes no more, and the dup is closed."""
        with self._ready:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def sent(self) -> None:
        """The handler has written the frame get gave it."""
        with self._ready:
            self._sending = False

    def get(self, timeout: float) -> bytes:
        """The next frame; queue.Empty after ``timeout`` seconds without one, or at once when the
        process is going away."""
        with self._ready:
            arrived = self._ready.wait_for(lambda: bool(self._frames) or self.going_away.is_set(), timeout)
            if not arrived or not self._frames:
                raise queue.Empty
            frame, _ = self._frames.popleft()
            self._bytes -= len(frame)
            self._sending = True
            return frame

    def empty(self) -> bool:
        with self._ready:
            return not self._frames

    def offer(self, frame: bytes) -> None:
        if self.lagging.is_set():
            return
        now = self._clock()
        with self._ready:
            if self._fd is not None and not self._frames and not self._sending:
                frame = self._write(self._fd, frame)
                if not frame:
                    return
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

    @staticmethod
    def _write(fd: int, frame: bytes) -> bytes:
        """Write what the socket takes now without waiting; what is left goes through the handler
        (it continues the same frame: nothing else is written in between)."""
        try:
            written = os.write(fd, frame)
        except OSError:  # full (EAGAIN), or gone: the handler meets it and ends
            return frame
        return frame[written:]

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
        self._encoder = Encoder()
        self._latest: dict[str, str] = {}  # symbol -> its newest price, encoded (subscribers only)
        # per slow-round group: the symbols with a newer price since its last round
        self._changed: list[set[str]] = [set() for _ in range(SLOW_GROUPS)]
        self._round = 0
        self._joined = 0  # sockets so far: each joins the next group in turn

    def subscribe(self) -> Subscriber:
        client = Subscriber()
        with self._lock:
            client.group = self._joined % SLOW_GROUPS
            self._joined += 1
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
        with self._lock:
            clients = list(self._clients)
        subscribers: list[Subscriber] = []
        others: list[Subscriber] = []
        for client in clients:  # each client's subscription read once: one frame or the other
            (others if client.subscription is None else subscribers).append(client)
        fragments = self._price_fragments(data) if subscribers else None
        if fragments is None:  # not prices: everyone gets the message as published
            others = clients
        if others:
            frame = text_frame(data)  # framed once for every socket that takes it as published
            for client in others:
                client.offer(frame)
        if fragments is None:
            return
        self._latest.update(fragments)
        for changed in self._changed:
            changed.update(fragments)
        self._offer_each(subscribers, fragments, lambda s: s.live)

    def _price_fragments(self, data: str) -> dict[str, str] | None:
        """A prices message's ticks encoded for subscribers; None for any other message (and for
        prices it cannot read: those go on as published, to everyone)."""
        try:
            message = json.loads(data)
            if not isinstance(message, dict) or message.get("type") not in ("prices", "price"):
                return None
            return self._encoder.fragments(message["prices"] if message["type"] == "prices" else [message])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("relaying a prices message as published: cannot read its prices (%r)", exc)
            return None

    def _send_slow(self) -> None:
        """One group's slow round: the newest price of each symbol that changed since the group's
        last round, to its subscribers that keep it without showing it. The groups take turns
        (SLOW_GROUPS of them, one every SLOW_SECONDS / SLOW_GROUPS), so a round's bytes are a
        fraction of the sockets' at a time instead of a burst of all of them."""
        group = self._round % SLOW_GROUPS
        self._round += 1
        changed, self._changed[group] = self._changed[group], set()
        with self._lock:
            subscribers = [
                c for c in self._clients
                if c.group == group and c.subscription is not None and c.subscription.slow.names
            ]  # fmt: skip
        if changed and subscribers:
            self._offer_each(subscribers, {s: self._latest[s] for s in changed}, lambda s: s.slow)

    def _offer_each(
        self, subscribers: list[Subscriber], fragments: dict[str, str], wanted: Callable[[Subscription], Symbols]
    ) -> None:
        """Each subscriber the fragments it wants: one frame per distinct list of symbols."""
        frames: dict[int, tuple[Symbols, bytes | None]] = {}
        for client in subscribers:
            subscription = client.subscription
            if subscription is None:
                continue
            symbols = wanted(subscription)
            made = frames.get(symbols.key)
            if made is None or (made[0] is not symbols and made[0].names != symbols.names):
                picked = pick(fragments, symbols)
                made = frames[symbols.key] = (symbols, text_frame(self._encoder.frame(picked)) if picked else None)
            if made[1] is not None:
                client.offer(made[1])

    def _listen(self) -> None:
        backoff = 0.5
        while not self._closed.is_set():
            try:
                with redis.Redis.from_url(self._redis_url).pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(*CHANNELS)
                    log.info("WebSocket relay subscribed to %s", ", ".join(CHANNELS))
                    backoff = 0.5
                    turn = SLOW_SECONDS / SLOW_GROUPS
                    slow_due = time.monotonic() + turn
                    while not self._closed.is_set():
                        message = pubsub.get_message(timeout=0.25)
                        if message is not None and message["type"] == "message":
                            self._fan_out(message["data"].decode())
                            # a slow round waits till half a turn after the last message: between
                            # two fetches, not over one's frames on their way out
                            slow_due = max(slow_due, time.monotonic() + turn / 2)
                        if time.monotonic() >= slow_due:
                            slow_due = time.monotonic() + turn
                            self._send_slow()
            except redis.RedisError as exc:
                log.warning("WebSocket relay lost Redis (%s); retrying in %.1f s", exc, backoff)
                self._closed.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


def _read_client_messages(ws: Any, client: Subscriber) -> None:
    """A subscribe message replaces the socket's subscription; one it cannot take is answered with
    an error frame naming the field, the subscription left as it was. Anything else is dropped
    (frames over max_message_size already closed that socket with 1009)."""
    while (data := ws.receive(timeout=0)) is not None:
        if not isinstance(data, str):
            continue
        try:
            subscription = parse_subscription(data)
        except SubscriptionError as exc:
            client.offer(text_frame(error_message(f"subscribe: {exc}")))
            continue
        if subscription is not None:
            client.subscription = subscription


@sock.route("/ws")
def websocket(ws: Any) -> None:
    relay: Relay = current_app.extensions["relay"]
    client = relay.subscribe()
    client.ws = ws
    try:
        fd = ws.sock.fileno()
        if not os.get_blocking(fd):  # gevent's sockets are non-blocking underneath: writes never wait
            client.write_directly(os.dup(fd))
        while ws.connected:
            if client.lagging.is_set() or client.going_away.is_set():
                ws.close(*(TOO_SLOW if client.lagging.is_set() else GOING_AWAY))
                break
            _read_client_messages(ws, client)
            try:
                frame = client.get(timeout=1.0)
            except queue.Empty:
                continue  # re-check ws.connected; flask-sock pings keep the socket alive
            # The frame is already made (once per message, not once per socket); sendall, unlike
            # simple-websocket's send, never leaves half a frame on a busy socket.
            try:
                ws.sock.sendall(frame)
            finally:
                client.sent()
    except (ConnectionClosed, OSError):
        pass  # gone, or cut for lagging
    finally:
        relay.unsubscribe(client)
        client.stop_writing()
