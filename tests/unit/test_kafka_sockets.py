"""A connect to a Kafka address where nothing listens leaves no socket open (kafka-python 3.0.12
does not close it by itself: app/pipeline/kafka_sockets.py)."""

from __future__ import annotations

import asyncio

import pytest
from kafka.errors import KafkaConnectionError
from kafka.net.inet import KafkaNetSocket

import app.services  # noqa: F401 - applies the fix, as every process that talks to Kafka does
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
