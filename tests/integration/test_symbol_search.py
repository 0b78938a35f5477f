"""Adding a symbol by name (issue 22) in Chromium: typing "apple" suggests AAPL, the keyboard or
a click adds it through the add box's own path, a watched one says so, Escape closes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from devstack.processes import Stack
from tests.conftest import ARTIFACTS
from tests.integration.browser import LOGIN_ENV, card, open_page, wait_for_prices

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack_changes() -> dict[str, str]:
    return LOGIN_ENV


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1440, "dark")])
def test_typing_a_name_suggests_symbols_and_the_keyboard_or_a_click_adds_one(
    browser: Browser, stack: Stack, app, width: int, scheme: str
):
    context, page, errors = open_page(browser, stack.base_url, width=width, height=844, color_scheme=scheme)
    wait_for_prices(page)
    box = page.locator("#new-symbol")
    suggestions = page.locator("#symbol-suggestions")
    options = suggestions.get_by_role("option")

    box.fill("a")
    page.wait_for_timeout(400)  # past the pause after a key: one letter asks nothing
    expect(suggestions).to_be_hidden()
    box.fill("apple")
    expect(options.first).to_have_attribute("data-symbol", "AAPL")
    expect(options.first).to_contain_text("Apple Inc.")
    expect(box).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=str(ARTIFACTS / f"symbol-search-{width}-{scheme}.png"))
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "symbol-suggestion-0")
    box.press("Enter")
    expect(page.locator("#add-symbol-answer")).to_have_text("Added AAPL (Apple Inc.).", timeout=10_000)
    expect(card(page, "AAPL")).to_be_visible()
    expect(suggestions).to_be_hidden()

    box.fill("bitcoin")  # already watched: said so
    expect(options.first).to_have_attribute("data-symbol", "BTC-USD")
    expect(options.first.locator(".suggestion-watched")).to_have_text("watched")
    box.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    box.fill("micro")
    suggestions.locator('[data-symbol="MSFT"]').click()
    expect(page.locator("#add-symbol-answer")).to_have_text("Added MSFT (Microsoft Corporation).", timeout=10_000)
    expect(card(page, "MSFT")).to_be_visible()
    box.fill("zzzzzz")
    expect(suggestions).to_contain_text("No symbol found")
    context.close()
    assert errors == []
