"""WebSocket relay: Redis pub/sub → every open /ws socket of this process.

One listener thread per process subscribes to the channels and fans each message
out to a bounded queue per client; the listener restarts with exponential backoff
when Redis goes away, and a client is removed in ``finally`` however it leaves.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from typing import Any

import redis
from flask import current_app
from simple_websocket import ConnectionClosed

from app.extensions import sock
from app.pubsub import CHANNELS

log = logging.getLogger(__name__)

CLIENT_QUEUE_SIZE = 500
MAX_BACKOFF_SECONDS = 30.0


class Relay:
    def __init__(self, redis_url: str) -> None:
        self._redis_url = redis_url
        self._clients: set[queue.Queue[str]] = set()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._closed = threading.Event()

    def subscribe(self) -> queue.Queue[str]:
        client: queue.Queue[str] = queue.Queue(CLIENT_QUEUE_SIZE)
        with self._lock:
            if self._pid != os.getpid():  # first client in this (possibly forked) process
                self._pid = os.getpid()
                threading.Thread(target=self._listen, name="ws-relay", daemon=True).start()
            self._clients.add(client)
        return client

    def unsubscribe(self, client: queue.Queue[str]) -> None:
        with self._lock:
            self._clients.discard(client)

    def close(self) -> None:
        """Stop the listener thread (within a second)."""
        self._closed.set()

    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    def _fan_out(self, data: str) -> None:
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            try:
                client.put_nowait(data)
            except queue.Full:
                log.warning("dropping a message for a WebSocket client that is %d behind", CLIENT_QUEUE_SIZE)

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


@sock.route("/ws")
def websocket(ws: Any) -> None:
    relay: Relay = current_app.extensions["relay"]
    client = relay.subscribe()
    try:
        while ws.connected:
            try:
                data = client.get(timeout=1.0)
            except queue.Empty:
                continue  # re-check ws.connected; flask-sock pings keep the socket alive
            ws.send(data)
    except ConnectionClosed:
        pass
    finally:
        relay.unsubscribe(client)
