"""A lean WebSocket client for holding a thousand sockets in one benchmark process.

A thousand dashboards are a thousand browsers, each parsing its frames in native code on its own
machine. One Python process standing in for all of them must not become the bottleneck it
measures: with a full client library, parsing 1,000 copies of a 75 KB frame took ~0.35 s of this
process's CPU per tick, so the last socket's receive time was mostly our own queueing. This
client does the handshake, reads unmasked server frames straight off the transport, timestamps
each one as its last byte arrives and hands over the payload; it answers pings and closes.
RFC 6455 sections 4.1 (handshake) and 5.2 (framing).
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Callable
from urllib.parse import urlsplit

OnMessage = Callable[[bytes, float], None]
PING, PONG, CLOSE = 0x9, 0xA, 0x8


def client_frame(opcode: int, payload: bytes = b"") -> bytes:
    """A masked client frame (clients must mask; RFC 6455 5.3), of any length."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return header + mask + masked


class FrameReader(asyncio.Protocol):
    def __init__(self, request: bytes, on_message: OnMessage) -> None:
        self.request = request
        self.on_message = on_message
        self.buffer = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP connection's is a Transport
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            head, sep, _ = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self._fail(ConnectionError(f"handshake refused: {bytes(head.splitlines()[0])!r}"))
                return
            del self.buffer[: len(head) + 4]
            self.upgraded = True
            self.opened.set_result(None)
        self._frames(time.time())

    def _frames(self, now: float) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            opcode, size, start = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if buf[1] & 0x80 or not buf[0] & 0x80:
                self._fail(ConnectionError("masked or fragmented server frame"))
                return
            if size == 126:
                size, start = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                size, start = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < start + size:
                return
            payload = bytes(buf[start : start + size])
            del buf[: start + size]
            if opcode == PING and self.transport is not None:
                self.transport.write(client_frame(PONG, payload))
            elif opcode == CLOSE:
                self.close()
                return
            elif opcode in (0x1, 0x2):
                self.on_message(payload, now)

    def send_text(self, text: str) -> None:
        """A text message to the server (a page's subscription)."""
        if self.transport is not None:
            self.transport.write(client_frame(0x1, text.encode()))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if self.upgraded:
                self.transport.write(client_frame(CLOSE, (1000).to_bytes(2, "big")))
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc)
        self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)


async def connect(url: str, on_message: OnMessage, timeout: float = 60) -> FrameReader:
    """Open a WebSocket to ``url`` (ws://host:port/path); ``on_message(payload, received_at)``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://{host}:{port}\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    _, reader = await asyncio.wait_for(
        loop.create_connection(lambda: FrameReader(request, on_message), host, port), timeout
    )
    await asyncio.wait_for(reader.opened, timeout)
    return reader
