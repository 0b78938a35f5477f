"""Calls that must give up after a deadline, whatever the library underneath does."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(RuntimeError):
    """The call did not return in time; it may still finish in its abandoned thread."""


def call_with_deadline(func: Callable[[], T], seconds: float, what: str) -> T:
    """Run ``func`` in a daemon thread and give up after ``seconds``.

    yfinance was measured to block for 130 s and more on a hanging network despite its own
    timeout argument; a notification plugin can hang the same way. Tasks must not.
    """
    if _under_gevent():
        return _in_gevent_threadpool(func, seconds, what)
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # handed to the caller below
            error.append(exc)

    worker = threading.Thread(target=target, name=f"deadline-{what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(f"{what} did not answer within {seconds:g} s")
    if error:
        raise error[0]
    return result[0]


def _under_gevent() -> bool:
    """True in the web process (gunicorn's gevent workers patch threading)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def _in_gevent_threadpool(func: Callable[[], T], seconds: float, what: str) -> T:
    """A patched Thread is a greenlet: a library blocking in C (yfinance's HTTP client) would
    stall every WebSocket of the worker. The hub's threadpool runs it in a real thread instead,
    and this greenlet waits cooperatively."""
    import gevent

    pending = gevent.get_hub().threadpool.spawn(func)
    try:
        return pending.get(timeout=seconds)  # type: ignore[no-any-return]
    except gevent.Timeout:
        raise DeadlineExceeded(f"{what} did not answer within {seconds:g} s") from None
