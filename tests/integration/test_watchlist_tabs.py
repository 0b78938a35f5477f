"""Named watchlists as tabs in the page (Chromium) against the real stack: make a list, fill it
from the add box, order it, switch tabs (click and keyboard) with prices kept, the chosen tab
remembered, rename, another page following, delete after a confirmation."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from devstack.processes import Stack
from tests.conftest import ARTIFACTS
from tests.integration.browser import card, open_page, wait_for_prices
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.browser

CONFIGURED = ["BTC-USD", "ETH-USD", "DOGE-USD"]


def shown(page: Page) -> list[str]:
    return page.locator("#cards .card:not([hidden])").evaluate_all("cards => cards.map((c) => c.dataset.symbol)")


def stored(stack: Stack) -> list[tuple[str, list[str]]]:
    answer = requests.get(f"{stack.base_url}/api/watchlists", timeout=10).json()
    return [(w["name"], w["symbols"]) for w in answer["watchlists"]]


def tab(page: Page, name: str):
    return page.get_by_role("tab", name=name)


def add(page: Page, symbol: str, answered: str | re.Pattern) -> None:
    page.fill("#new-symbol", symbol)
    page.click("#add-symbol button[type=submit]")
    expect(page.locator("#add-symbol-answer")).to_have_text(answered)


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1440, "dark")])
def test_a_list_made_filled_ordered_chosen_renamed_and_deleted(browser: Browser, stack: Stack, width, scheme):
    context, page, errors = open_page(browser, stack.base_url, width=width, height=844, color_scheme=scheme)
    other_context, other, _ = open_page(browser, stack.base_url, 1024, 768)
    try:
        wait_for_prices(page)
        expect(page.get_by_role("tab")).to_have_count(1)
        expect(tab(page, "Watchlist")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#delete-watchlist")).to_be_disabled()  # the last list stays

        page.click("#new-watchlist")
        expect(page.locator("#watchlist-name")).to_be_focused()
        page.fill("#watchlist-name", "watchlist")
        page.keyboard.press("Enter")
        expect(page.locator("#watchlist-answer")).to_have_text("there is a watchlist named watchlist already")
        page.fill("#watchlist-name", "Crypto")
        page.keyboard.press("Enter")
        expect(page.locator("#watchlist-answer")).to_have_text("Made Crypto: add symbols to it above.")
        expect(tab(page, "Crypto")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#empty-list")).to_have_text("No symbols on Crypto yet: add one above.")
        assert shown(page) == []

        # Watched already: put on the list without asking the source (named once the source described it).
        add(page, "eth-usd", re.compile(r"^Added ETH-USD( \(Ethereum USD\))? to Crypto\.$"))
        add(page, "DOGE-USD", re.compile(r"^Added DOGE-USD( \(Dogecoin USD\))? to Crypto\.$"))
        expect(page.locator("#empty-list")).to_be_hidden()
        wait_for(lambda: shown(page) == ["ETH-USD", "DOGE-USD"], 10, "the list's two cards")
        expect(card(page, "DOGE-USD").locator(".price")).not_to_have_text("–")  # its card kept its price
        card(page, "DOGE-USD").get_by_role("button", name="Move DOGE-USD earlier").click()
        wait_for(lambda: stored(stack)[1] == ("Crypto", ["DOGE-USD", "ETH-USD"]), 10, "the new order stored")
        wait_for(lambda: shown(page) == ["DOGE-USD", "ETH-USD"], 10, "the cards in the stored order")
        assert stored(stack)[0] == ("Watchlist", CONFIGURED)  # the other list keeps its own order

        page.click("#watch-view [data-view=table]")
        expect(page.locator("#watch-table-body tr")).to_have_count(2)  # the table shows the chosen list too
        page.click("#watch-view [data-view=cards]")

        tab(page, "Crypto").focus()
        page.keyboard.press("ArrowLeft")
        expect(tab(page, "Watchlist")).to_be_focused()
        expect(tab(page, "Watchlist")).to_have_attribute("aria-selected", "true")
        assert shown(page) == CONFIGURED
        expect(card(page, "BTC-USD").locator(".price")).not_to_have_text("–")

        tab(page, "Crypto").click()
        page.reload()
        expect(tab(page, "Crypto")).to_have_attribute("aria-selected", "true", timeout=30_000)  # remembered
        wait_for(lambda: shown(page) == ["DOGE-USD", "ETH-USD"], 10, "the remembered list's cards")

        page.click("#rename-watchlist")
        expect(page.locator("#watchlist-name")).to_have_value("Crypto")
        page.fill("#watchlist-name", "Coins")
        page.click("#watchlist-name-form button[type=submit]")
        expect(tab(page, "Coins")).to_have_attribute("aria-selected", "true")
        expect(tab(other, "Coins")).to_be_visible()  # told through the socket
        expect(tab(other, "Watchlist")).to_have_attribute("aria-selected", "true")  # its own choice stays

        page.screenshot(path=str(ARTIFACTS / f"watchlist-tabs-{width}-{scheme}.png"), full_page=True)
        page.click("#delete-watchlist")
        expect(page.locator("#watchlist-delete-question")).to_have_text(
            "Delete Coins? Its symbols on no other list stop being fetched (their history and alerts are kept)."
        )
        page.click("#watchlist-delete-yes")
        expect(page.locator("#watchlist-answer")).to_have_text("Deleted Coins; its symbols are on other lists.")
        expect(page.get_by_role("tab")).to_have_count(1)
        expect(tab(page, "Watchlist")).to_have_attribute("aria-selected", "true")
        wait_for(lambda: shown(page) == CONFIGURED, 10, "the first list's cards again")
        expect(other.get_by_role("tab")).to_have_count(1)
        assert stored(stack) == [("Watchlist", CONFIGURED)]
        assert errors == []
    finally:
        other_context.close()
        context.close()
