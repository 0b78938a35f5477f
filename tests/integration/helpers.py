"""Small helpers for the integration tests: ticks to feed, and waiting on conditions."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from app.ticks import Tick

T = TypeVar("T")
T0 = datetime.now(UTC).replace(microsecond=0)


def tick(symbol: str, price: str, seconds: int = 0, source: str = "simulated") -> Tick:
    observed = T0 + timedelta(seconds=seconds)
    return Tick(symbol, Decimal(price), observed, datetime.now(UTC), source)


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll until ``check`` returns something truthy; fail the test naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
