"""Browser helpers: Debian's Chromium through Playwright (fixtures in conftest.py)."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from decimal import Decimal

from playwright.sync_api import Browser, Page, expect

from app.market.ticks import Tick

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
XSS = '<img src=x onerror="window.__xss=1">'
# Records browser notifications instead of showing them; permission reads as granted.
NOTIFICATION_SPY = """
window.__notifications = [];
window.Notification = class { static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); } };
"""


def older_tick(symbol: str, price: Decimal, start: datetime, step: int) -> Tick:
    return Tick(symbol, price, start + timedelta(seconds=5 * step), start, "simulated")


def card(page: Page, symbol: str):
    return page.locator(f'.card[data-symbol="{symbol}"]')


def wait_for_prices(page: Page) -> None:
    for symbol in ("BTC-USD", "ETH-USD", "DOGE-USD"):
        expect(card(page, symbol).locator(".price")).not_to_have_text("–", timeout=30_000)


def open_page(browser: Browser, base_url: str, width: int = 1440, height: int = 900):
    """A page in a browser context of its own, connected: (context, page, JavaScript errors)."""
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=base_url)
    context.add_init_script(NOTIFICATION_SPY)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected", timeout=30_000)
    return context, page, errors
