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
