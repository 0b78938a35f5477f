"""When the relay gives up on a socket: by how long it has not read and how much waits for it,
never by how many messages a burst brought (issue 19: 100 alerts cut a page that kept up)."""

import os
import queue
import socket

import pytest

from app.web.ws import MAX_LAG_SECONDS, MAX_QUEUED_BYTES, Subscriber, text_frame


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_a_thousand_small_frames_waits_for_a_reader_that_reads():
    client = Subscriber(Clock())
    for n in range(1000):
        client.offer(text_frame(f'{{"type":"alert","n":{n}}}'))
    assert not client.lagging.is_set()
    got = [client.get(timeout=0) for _ in range(1000)]
    assert got[0] == text_frame('{"type":"alert","n":0}') and got[-1] == text_frame('{"type":"alert","n":999}')
    with pytest.raises(queue.Empty):
        client.get(timeout=0.01)


def test_a_reader_that_stopped_reading_is_cut_once_its_oldest_frame_is_too_old():
    clock = Clock()
    client = Subscriber(clock)
    client.offer(b"first")
    clock.now += MAX_LAG_SECONDS - 1
    client.offer(b"second")
    assert not client.lagging.is_set()
    clock.now += 2  # the first has waited past the limit
    client.offer(b"third")
    assert client.lagging.is_set()


def test_a_reader_that_keeps_reading_is_never_too_old():
    clock = Clock()
    client = Subscriber(clock)
    for _ in range(100):
        client.offer(b"tick")
        clock.now += MAX_LAG_SECONDS / 2
        assert client.get(timeout=0) == b"tick"
    assert not client.lagging.is_set()


def test_too_many_bytes_waiting_cuts_the_reader():
    client = Subscriber(Clock())
    big = b"x" * (MAX_QUEUED_BYTES // 4)
    for _ in range(4):
        client.offer(big)
    assert not client.lagging.is_set()
    client.offer(b"one more")
    assert client.lagging.is_set()


def test_frames_go_straight_to_an_idle_socket_and_what_it_cannot_take_waits_in_order():
    """The listener writes to a non-blocking socket itself while the handler is idle; a frame the
    socket takes only in part continues through the handler, and every later one waits behind it."""
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client = Subscriber(Clock())
    client.write_directly(os.dup(ours.fileno()))
    client.offer(b"one")
    assert client.empty() and peer.recv(10) == b"one"  # written at once: nothing queued
    big = bytes(range(256)) * 4096  # 1 MiB: more than the socket's buffers take
    client.offer(big)
    client.offer(b"after")
    assert not client.empty()
    rest = client.get(timeout=0)  # the handler's part: the same frame's remainder first
    assert len(rest) < len(big) and big.endswith(rest)
    client.offer(b"later")  # the handler holds a frame: this one waits too
    assert client.get(timeout=0) == b"after"
    assert client.get(timeout=0) == b"later"
    client.sent()
    client.stop_writing()
    client.offer(b"gone")  # after stop_writing: queued for a handler, never written
    assert client.get(timeout=0) == b"gone"
    ours.close()
    peer.close()


def test_a_socket_that_is_not_written_directly_gets_everything_through_the_handler():
    client = Subscriber(Clock())
    client.offer(b"one")
    assert client.get(timeout=0) == b"one"
