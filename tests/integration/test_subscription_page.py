"""The page tells the server what it shows (Chromium against the real stack): the cards in view,
the open chart and the alert form's symbol come at every fetch, the rest of the watchlist every
10 s, and the subscription follows the scroll (issue 24)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, WebSocket, expect

from devstack.processes import Stack
from tests.integration.browser import card

pytestmark = pytest.mark.browser

SYMBOLS = [
    "BTC-USD",
    "ETH-USD",
    "DOGE-USD",
    "SOL-USD",
    "ADA-USD",
    "XRP-USD",
    "LTC-USD",
    "DOT-USD",
    "AVAX-USD",
    "LINK-USD",
]


@pytest.fixture
def watchlist(stack: Stack) -> Iterator[None]:
    """Ten symbols: more cards than a phone's screen (and one more above and below) holds."""
    added = [s for s in SYMBOLS if s not in ("BTC-USD", "ETH-USD", "DOGE-USD")]
    for symbol in added:
        answer = requests.post(
            f"{stack.base_url}/api/symbols", json={"symbol": symbol}, headers=stack.headers, timeout=10
        )
        assert answer.status_code == 201, answer.text
    yield
    for symbol in added:
        requests.delete(f"{stack.base_url}/api/symbols/{symbol}", headers=stack.headers, timeout=10).raise_for_status()


class Wire:
    """What the page said on its socket and the price frames it got: (time, message)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.ticks: list[tuple[float, set[str]]] = []
        self.old_frames = 0

    def attach(self, ws: WebSocket) -> None:
        ws.on("framesent", lambda payload: self.sent.append(json.loads(payload)))
        ws.on("framereceived", self._received)

    def _received(self, payload: str | bytes) -> None:
        message = json.loads(payload)
        if message["type"] == "ticks":
            self.ticks.append((time.monotonic(), {t[0] for t in message["ticks"]}))
        elif message["type"] == "prices":
            self.old_frames += 1

    def subscription(self) -> dict[str, Any]:
        return [m for m in self.sent if m.get("type") == "subscribe"][-1]

    def frames_with(self, symbol: str, since: float) -> int:
        return sum(1 for at, symbols in self.ticks if at >= since and symbol in symbols)


def until(page: Page, done: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """wait_for, with the page's events delivered meanwhile (Playwright's sync API hands them over
    only while it is called)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {what}"
        page.wait_for_timeout(100)


def test_a_page_gets_what_it_shows_at_every_fetch_and_the_rest_every_10_s(browser: Browser, stack: Stack, watchlist):
    context = browser.new_context(viewport={"width": 390, "height": 400}, base_url=stack.base_url)
    page = context.new_page()
    wire = Wire()
    page.on("websocket", wire.attach)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/")
        expect(page.locator("#connection")).to_have_attribute("data-state", "connected", timeout=30_000)
        for symbol in SYMBOLS:
            expect(card(page, symbol).locator(".price")).not_to_have_text("–", timeout=30_000)
        # At the top of a phone's page: the first cards (and the alert form's symbol) are shown,
        # the last ones kept; together they are the watchlist.
        first = wire.subscription()
        assert "ETH-USD" in first["live"] and "LINK-USD" in first["slow"]
        assert sorted(first["live"] + first["slow"]) == sorted(SYMBOLS)
        assert "BTC-USD" in first["live"]  # the alert form's symbol: its preview shows the price

        since = time.monotonic()
        page.wait_for_timeout(12_500)
        assert wire.frames_with("ETH-USD", since) >= 4  # a fetch every 2 s
        assert 1 <= wire.frames_with("LINK-USD", since) <= 2  # a round every 10 s
        expect(card(page, "LINK-USD")).to_have_attribute("data-stale", "false")  # 10 s old is not stale here

        card(page, "LINK-USD").scroll_into_view_if_needed()
        until(page, lambda: "LINK-USD" in wire.subscription()["live"], "LINK-USD shown once scrolled to")
        assert "ETH-USD" in wire.subscription()["slow"]
        since = time.monotonic()
        page.wait_for_timeout(6_500)
        assert wire.frames_with("LINK-USD", since) >= 2

        # The chart of a card out of view: its symbol comes at every fetch while the chart is open.
        card(page, "ETH-USD").locator("button").first.dispatch_event("click")
        expect(page.locator("#chart-modal")).to_be_visible()
        until(page, lambda: "ETH-USD" in wire.subscription()["live"], "the chart's symbol shown")
        page.keyboard.press("Escape")
        expect(page.locator("#chart-modal")).to_be_hidden()
        card(page, "LINK-USD").scroll_into_view_if_needed()  # the focus went back to ETH-USD's card
        until(page, lambda: "ETH-USD" in wire.subscription()["slow"], "the chart's symbol kept once closed")
        assert wire.old_frames <= 2  # the old frame only before the first subscription is read
        assert errors == []
    finally:
        context.close()
