"""The watchlist in the page (Chromium, login on) against the real stack: add with the answer
inline, remove (its alerts shown paused), reorder by keyboard and by drag, other tabs follow;
the fetch task picks up a new symbol on its next run; a throttled source is said on the page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from app.extensions import db
from app.pipeline.pubsub import ALERTS_CHANNEL
from devstack.processes import Stack
from tests.conftest import ARTIFACTS
from tests.integration.browser import LOGIN_ENV, card, open_page, swipe, wait_for_prices
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack_changes() -> dict[str, str]:
    return LOGIN_ENV


def order(page: Page) -> list[str]:
    return page.locator("#cards .card").evaluate_all("cards => cards.map((c) => c.dataset.symbol)")


def stored_order(stack: Stack) -> list[str]:
    answer = requests.get(f"{stack.base_url}/api/symbols", headers=stack.headers, timeout=10)
    return [s["symbol"] for s in answer.json()["symbols"]]


def add_in_box(page: Page, typed: str, answered: str, ok: bool) -> None:
    """Type in "Add a symbol", press Add, and see the answer beside the box."""
    page.fill("#new-symbol", typed)
    page.click("#add-symbol button[type=submit]")
    answer = page.locator("#add-symbol-answer")
    expect(answer).to_have_text(answered)
    expect(answer).to_have_attribute("data-ok", str(ok).lower())


def test_a_symbol_added_in_the_box_gets_its_card_and_its_prices(page: Page, stack: Stack):
    wait_for_prices(page)
    add_in_box(page, "aapl", "Added AAPL (Apple Inc.).", ok=True)
    expect(page.locator("#new-symbol")).to_have_value("")
    aapl = card(page, "AAPL")
    expect(aapl.locator(".listing")).to_have_text("Apple Inc. · simulated")  # its name, the exchange
    expect(aapl.locator(".currency")).to_have_text("USD")
    expect(aapl.locator(".price")).not_to_have_text("–", timeout=15_000)  # fetched from the next run on
    assert order(page) == ["BTC-USD", "ETH-USD", "DOGE-USD", "AAPL"]
    expect(page.locator("#alert-symbol option[value=AAPL]")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "watchlist-added-1440.png"))


def test_a_refused_symbol_is_explained_beside_the_box_and_what_was_typed_stays(page: Page):
    wait_for_prices(page)
    add_in_box(page, "BTC USD", "The symbol 'BTC USD' is not a valid symbol", ok=False)
    expect(page.locator("#new-symbol")).to_have_value("BTC USD")
    add_in_box(page, "eth-usd", "ETH-USD is on Watchlist already", ok=False)
    assert order(page) == ["BTC-USD", "ETH-USD", "DOGE-USD"]


def test_a_removed_card_goes_everywhere_its_alert_waits_undo_puts_it_back(browser: Browser, page: Page, stack: Stack):
    wait_for_prices(page)
    created = requests.post(
        f"{stack.base_url}/api/alerts",
        json={"symbol": "ETH-USD", "direction": "above", "threshold": "1000000"},
        headers=stack.headers,
        timeout=10,
    )
    assert created.status_code == 201
    other_context, other, errors = open_page(browser, stack.base_url)
    try:
        wait_for_prices(other)
        page.get_by_role("button", name="Remove ETH-USD from the watchlist").click()
        expect(page.locator("#add-symbol-answer")).to_have_text(
            "Removed ETH-USD; its history and alerts are kept. Add it again to resume."
        )
        expect(card(page, "ETH-USD")).to_have_count(0)
        expect(card(other, "ETH-USD")).to_have_count(0)  # told through the socket
        paused = page.locator("#active-alerts li").filter(has_text="ETH-USD")
        expect(paused.locator(".distance")).to_have_text(
            "waiting: ETH-USD is not on a watchlist (add it again to check it)"
        )
        assert stored_order(stack) == ["BTC-USD", "DOGE-USD"]
        # Undo puts it back where it was, for every tab
        page.locator("#undo").get_by_role("button", name="Undo").click()
        expect(page.locator("#undo")).to_contain_text("ETH-USD is back on Watchlist.")
        wait_for(lambda: stored_order(stack) == ["BTC-USD", "ETH-USD", "DOGE-USD"], 10, "the card back in its place")
        expect(other.locator("#cards .card")).to_have_count(3)
        assert order(other) == ["BTC-USD", "ETH-USD", "DOGE-USD"]
        expect(paused.locator(".distance")).not_to_contain_text("waiting")
        assert errors == []
    finally:
        other_context.close()


def test_cards_move_with_the_keyboard_and_by_drag_and_the_order_is_kept(page: Page, stack: Stack):
    wait_for_prices(page)
    later = page.get_by_role("button", name="Move BTC-USD later")
    later.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cards .card").first).to_have_attribute("data-symbol", "ETH-USD")
    expect(later).to_be_focused()  # press again to move it further
    page.keyboard.press("Enter")
    expect(page.locator("#cards .card").last).to_have_attribute("data-symbol", "BTC-USD")
    assert stored_order(stack) == ["ETH-USD", "DOGE-USD", "BTC-USD"]
    card(page, "BTC-USD").locator(".card-head").drag_to(card(page, "ETH-USD").locator(".card-head"))
    wait_for(lambda: stored_order(stack) == ["BTC-USD", "ETH-USD", "DOGE-USD"], 10, "the dragged order stored")
    page.reload()
    wait_for_prices(page)
    assert order(page) == ["BTC-USD", "ETH-USD", "DOGE-USD"]


def test_the_fetch_picks_up_a_new_symbol_on_its_next_run(app, stack: Stack):
    added_at = datetime.now(UTC)
    answer = requests.post(f"{stack.base_url}/api/symbols", json={"symbol": "MSFT"}, headers=stack.headers, timeout=10)
    assert answer.status_code == 201

    def first_msft() -> datetime | None:
        with app.app_context():
            first = db.session.scalar(text("SELECT min(observed_at) FROM ticks WHERE symbol = 'MSFT'"))
            db.session.rollback()
        return first

    first = wait_for(first_msft, 20, "a stored MSFT tick")
    interval = app.config["SETTINGS"].fetch_interval_seconds
    # The simulator stamps a tick with its fetch's slot: the first run after the add.
    assert first <= added_at + timedelta(seconds=interval)


def test_a_throttled_source_is_said_on_the_page_with_a_countdown_until_it_answers(page: Page, redis_client):
    wait_for_prices(page)
    state = page.locator("#source-state")
    expect(state).to_be_hidden()
    until = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    resting = {"type": "source", "source": "yfinance", "state": "rate_limited", "until": until, "reason": "429"}
    redis_client.publish(ALERTS_CHANNEL, json.dumps(resting))  # as the fetch task tells the pages
    expect(state).to_have_text(
        re.compile(
            r"^Yahoo Finance is rate limiting us: retrying in (29|30) s\. Prices stay as last received until then\.$"
        )
    )
    expect(state).to_have_text(re.compile(r"retrying in 2[0-8] s"), timeout=5_000)  # it counts down
    redis_client.publish(ALERTS_CHANNEL, json.dumps({"type": "source", "source": "yfinance", "state": "ok"}))
    expect(state).to_be_hidden()
    # With CRYPTO_FALLBACK, the rest says where crypto prices come from meanwhile.
    kraken_meanwhile = resting | {"stand_in": "ccxt:kraken"}
    redis_client.publish(ALERTS_CHANNEL, json.dumps(kraken_meanwhile))
    expect(state).to_have_text(
        re.compile(r"retrying in \d+ s\. Crypto prices come from Kraken meanwhile; the others stay as last received\.$")
    )
    redis_client.publish(ALERTS_CHANNEL, json.dumps({"type": "source", "source": "yfinance", "state": "ok"}))
    expect(state).to_be_hidden()


def test_a_closed_market_is_said_on_its_card_with_when_it_opens_not_called_stale(page: Page, redis_client):
    wait_for_prices(page)
    doge = card(page, "DOGE-USD")
    expect(doge.locator(".meta")).to_have_text(re.compile(r"^updated "))
    opens = (datetime.now(UTC) + timedelta(days=2)).replace(hour=14, minute=30, second=0, microsecond=0)
    closed = {
        "calendar": "XNYS", "state": "closed", "last_close": datetime.now(UTC).isoformat(),
        "next_open": opens.isoformat(), "next_close": None,
    }  # fmt: skip
    # As the fetch tells the pages when a market closes (a stock's; any card shows it the same way).
    redis_client.publish(ALERTS_CHANNEL, json.dumps({"type": "markets", "markets": {"DOGE-USD": closed}}))
    here = opens - timedelta(minutes=page.evaluate(f"new Date('{opens.isoformat()}').getTimezoneOffset()"))
    when = f"{here.strftime('%a')}\\s{here.hour % 12 or 12}:30\\s{here.strftime('%p')}"  # the viewer's clock
    last_close = r"last close \w{3}\s\d{1,2}:\d{2}\s[AP]M"  # the card's price is the close: when it was
    expect(doge.locator(".meta")).to_have_text(re.compile(rf"^market closed · {last_close} · opens {when}$"))
    expect(doge).to_have_attribute("data-market", "closed")
    expect(doge).to_have_attribute("data-stale", "false")
    page.screenshot(path=str(ARTIFACTS / "market-closed-1440.png"))
    reopened = closed | {"state": "open", "next_open": None, "last_close": None}
    redis_client.publish(ALERTS_CHANNEL, json.dumps({"type": "markets", "markets": {"DOGE-USD": reopened}}))
    expect(doge.locator(".meta")).to_have_text(re.compile(r"^updated "))
    expect(doge).to_have_attribute("data-market", "open")


def test_on_a_phone_a_swipe_on_a_card_scrolls_and_leaves_the_order(browser: Browser, stack: Stack):
    """At 390 px a vertical swipe starting on a card reordered the watchlist and scrolled 0 px
    (issue 20): cards fill a phone's screen. A swipe scrolls; a drag from a card's grip moves it."""
    context, page, errors = open_page(browser, stack.base_url, 390, 844, has_touch=True, is_mobile=True)
    try:
        wait_for_prices(page)
        before = order(page)
        stored = stored_order(stack)
        target = card(page, before[-1])
        target.scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, document.querySelector('#cards').getBoundingClientRect().top + scrollY - 40)")
        box = target.bounding_box()
        assert box is not None and box["y"] + box["height"] / 2 > 450, box
        scrolled = page.evaluate("scrollY")
        swipe(page, box["x"] + box["width"] / 2, min(box["y"] + box["height"] / 2, 800), -400)
        page.wait_for_timeout(800)  # the fling settles
        assert page.evaluate("scrollY") - scrolled >= 200
        assert order(page) == before and stored_order(stack) == stored

        page.evaluate("window.scrollTo(0, document.querySelector('#cards').getBoundingClientRect().top + scrollY)")
        grip = card(page, before[0]).locator(".card-grip").bounding_box()
        second = card(page, before[1]).bounding_box()
        assert grip is not None and second is not None
        x, y = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
        swipe(page, x, y, second["y"] + second["height"] - y - 10, hold_ms=100)  # a drag from the grip
        moved = [before[1], before[0], *before[2:]]
        wait_for(lambda: stored_order(stack) == moved, 10, "the order a long press and drag made")
        assert order(page) == moved
        assert errors == []
    finally:
        context.close()


def test_a_card_removed_with_the_keyboard_hands_focus_on_and_a_skip_link_passes_the_cards(page: Page, stack: Stack):
    """Removing a card with the keyboard dropped focus to <body>; nothing let a keyboard skip the
    cards' four Tab stops each to reach the alert form (issue 20)."""
    wait_for_prices(page)
    page.get_by_role("button", name="Remove ETH-USD from the watchlist").focus()
    page.keyboard.press("Enter")
    expect(card(page, "ETH-USD")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove DOGE-USD from the watchlist")).to_be_focused()
    page.keyboard.press("Enter")  # the last card: focus goes to its neighbour before it
    expect(page.get_by_role("button", name="Remove BTC-USD from the watchlist")).to_be_focused()
    page.keyboard.press("Enter")  # no card left: the add box
    expect(page.locator("#new-symbol")).to_be_focused()
    for symbol in ("BTC-USD", "ETH-USD", "DOGE-USD"):  # back as they were
        requests.post(f"{stack.base_url}/api/symbols", json={"symbol": symbol}, headers=stack.headers, timeout=30)

    page.reload()
    wait_for_prices(page)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the alert form")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#alert-symbol")).to_be_focused()


def test_prices_in_the_viewers_locale_and_each_symbols_decimals(browser: Browser, stack: Stack):
    """Stocks and thresholds showed 4 decimals ("279.9010", "500.0000") in en-US whatever the
    viewer's locale, and dates had 2-digit years (issue 20)."""
    url, headers = stack.base_url, stack.headers
    added = requests.post(f"{url}/api/symbols", json={"symbol": "EURUSD=X"}, headers=headers, timeout=30)
    assert added.status_code == 201 and added.json()["symbol"]["price_hint"] == 4  # the simulator says so
    context, page, errors = open_page(browser, stack.base_url, locale="de-DE")
    try:
        wait_for_prices(page)
        expect(card(page, "EURUSD=X").locator(".price")).to_have_text(re.compile(r"^1,\d{4}$"), timeout=30_000)
        expect(card(page, "BTC-USD").locator(".price")).to_have_text(re.compile(r"^\d{2,3}\.\d{3},\d{2}$"))
        page.select_option("#alert-symbol", "ETH-USD")
        page.select_option("#alert-rule", "below")
        page.fill("#alert-threshold", "1.000,5")  # as a German writes 1000.5
        page.click("#alert-form button[type=submit]")
        expect(page.locator("#active-alerts li").filter(has_text="ETH-USD")).to_contain_text("at or below 1.000,50")
        alerts = requests.get(f"{stack.base_url}/api/alerts?status=active", headers=stack.headers, timeout=10).json()
        assert [a["threshold"] for a in alerts["alerts"] if a["symbol"] == "ETH-USD"] == [1000.5]
        assert errors == []
    finally:
        context.close()
        requests.delete(f"{stack.base_url}/api/symbols/EURUSD=X", headers=stack.headers, timeout=10)
