"""A connect to a Kafka address where nothing listens leaves no socket open (kafka-python 3.0.12
does not close it by itself: app/pipeline/kafka_sockets.py)."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from kafka.net.inet import KafkaNetSocket

import app.services  # applies the fix, as every process that talks to Kafka does
from devstack.servers import free_port


class Net:
    """What kafka-python's connect asks of its event loop: wait until the socket is writable."""

    async def wait_write(self, sock, timeout_at=None):
        await asyncio.sleep(0.05)


def test_a_refused_connect_closes_its_socket(monkeypatch):
    made = []
    original = KafkaNetSocket.socket

    def socket(self, *args, **kwargs):
        made.append(original(self, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(KafkaNetSocket, "socket", socket)
    factory = KafkaNetSocket()
    address = factory.dns_lookup("127.0.0.1", free_port())[0]
    with pytest.raises(KafkaConnectionError, match="ECONNREFUSED"):
        asyncio.run(factory.connect(Net(), address))
    assert len(made) == 1 and made[0].fileno() == -1  # closed, not left for the garbage collector


def test_the_wrapper_is_applied_once():
    from app.pipeline.kafka_sockets import close_failed_sockets

    wrapped = KafkaNetSocket.sock_connect
    close_failed_sockets()
    assert KafkaNetSocket.sock_connect is wrapped and wrapped.closes_failed_sockets


def test_an_admin_whose_bootstrap_times_out_leaves_no_thread_or_socket_behind():
    """A listener that accepts and never answers: the admin's bootstrap times out (as with a broker
    that hangs); its IO thread and connection must end with it (app/services.py kafka_admin)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    try:
        with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
            app.services.kafka_admin(f"127.0.0.1:{listener.getsockname()[1]}", timeout_ms=500)
        assert [t.name for t in threading.enumerate() if t.name.startswith("kafka-io-")] == []
        assert len(accepted) == 1
        accepted[0].settimeout(2)
        while accepted[0].recv(4096):  # its request (unanswered), then the end: it hung up
            pass
    finally:
        for s in [listener, *accepted]:
            s.close()
