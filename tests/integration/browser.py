"""Browser helpers: Debian's Chromium through Playwright (fixtures in conftest.py)."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta
from decimal import Decimal

from playwright.sync_api import Browser, Page, expect

from app.access.passwords import hash_password
from app.market.ticks import Tick

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TEST_USER, TEST_PASSWORD = "tester", "a test password"
# The login on, as a stack listening beyond localhost must have it: the browser tests sign in.
LOGIN_ENV = {"AUTH_USERNAME": TEST_USER, "AUTH_PASSWORD_HASH": hash_password(TEST_PASSWORD), "SECRET_KEY": "tests"}
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


def sign_in(page: Page, user: str = TEST_USER, password: str = TEST_PASSWORD) -> None:
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: not url.endswith("/login"))


def open_page(browser: Browser, base_url: str, width: int = 1440, height: int = 900, **options: object):
    """A page in a browser context of its own, connected: (context, page, JavaScript errors).
    ``options`` go to the context (has_touch=True, is_mobile=True for a phone)."""
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=base_url, **options)
    context.add_init_script(NOTIFICATION_SPY)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    if page.url.endswith("/login"):  # the login is on: sign in as a person would
        sign_in(page)
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected", timeout=30_000)
    return context, page, errors


def swipe(page: Page, x: float, y: float, dy: float, steps: int = 20, hold_ms: int = 0) -> None:
    """A finger moving ``dy`` px vertically from (x, y), as Chromium's touch input (not mouse
    events), after resting ``hold_ms`` where it touched."""
    touch = page.context.new_cdp_session(page)
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    page.wait_for_timeout(hold_ms)
    for step in range(1, steps + 1):
        point = {"x": x, "y": y + dy * step / steps}
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        page.wait_for_timeout(16)
    page.wait_for_timeout(hold_ms // 2)  # a drag rests on its drop place a moment
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    touch.detach()


def wait_in_page(page: Page, expression: str, what: str, arg: object = None, seconds: float = 10) -> None:
    """Until ``expression`` (a JavaScript function of ``arg``, or an expression) is truthy in the
    page. Not Playwright's wait_for_function: its polling evaluates the predicate again as a string,
    which the page's Content Security Policy (no 'unsafe-eval') refused now and then (Playwright
    issues 7395, 36982); one evaluate at a time is allowed."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression, arg):
        assert time.monotonic() < deadline, f"timed out after {seconds:g} s waiting for {what}"
        page.wait_for_timeout(100)
