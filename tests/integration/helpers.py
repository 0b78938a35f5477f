"""Small helpers for the integration tests: ticks to feed, and waiting on conditions."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from app.alerting.alerts import create_alert
from app.market.ticks import Tick
from app.web.validation import parse_alert

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


def make_alert(symbol: str, rule: str, threshold: str | None = None, **fields: object) -> int:
    """Create an alert through the API's own parsing (inside an app context); returns its id."""
    body = {"symbol": symbol, "rule": rule, "threshold": threshold} | fields
    return create_alert(parse_alert({k: v for k, v in body.items() if v is not None}))["id"]
