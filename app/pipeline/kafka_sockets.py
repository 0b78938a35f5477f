"""kafka-python 3.0.12 leaves the socket of a failed connect open.

``kafka/net/inet.py``'s ``sock_connect`` raises on a refused or timed-out connect without
closing the socket it was given: while a broker is down, every retry of every client (the bridge,
the producer, the web's health check) holds one more descriptor until the garbage collector finds
it, and Python warns "unclosed socket" then. ``close_failed_sockets`` wraps it to close the
socket on the way out. The pin on kafka-python is exact; a release that fixes it makes this moot
(tests/unit/test_kafka_sockets.py says whether it is still needed).
"""

from __future__ import annotations

import socket
from typing import Any


def close_failed_sockets() -> None:
    """Wrap kafka-python's connect so that a socket whose connect fails is closed (once per process)."""
    from kafka.net.inet import KafkaNetSocket

    original = KafkaNetSocket.sock_connect
    if getattr(original, "closes_failed_sockets", False):
        return

    async def sock_connect(self: Any, net: Any, sock: socket.socket, sockaddr: Any, timeout_at: Any = None) -> Any:
        try:
            return await original(self, net, sock, sockaddr, timeout_at=timeout_at)
        except BaseException:  # refused, timed out, cancelled: the socket is of no further use
            sock.close()
            raise

    sock_connect.closes_failed_sockets = True  # type: ignore[attr-defined]
    KafkaNetSocket.sock_connect = sock_connect  # type: ignore[method-assign]
