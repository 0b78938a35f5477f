"""The watchlist as a table (issue 22) in Chromium: the cards' figures in rows, live; sorting by a
column, the other way, then the watchlist's order; the view and the sort remembered; a row opens
the chart; on a phone it scrolls sideways with the symbol in view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.processes import Stack
from tests.conftest import ARTIFACTS
from tests.integration.browser import LOGIN_ENV, card, open_page, wait_for_prices, wait_in_page
from tests.integration.test_history_dashboard import seed_day

pytestmark = pytest.mark.browser
WATCHED = ["BTC-USD", "ETH-USD", "DOGE-USD"]


@pytest.fixture(scope="module")
def stack_changes() -> dict[str, str]:
    return LOGIN_ENV


def rows(page: Page) -> list[str]:
    return page.locator("#watch-table-body tr").evaluate_all("(rows) => rows.map((r) => r.dataset.symbol)")


def figures(page: Page) -> dict[str, dict[str, str]]:
    """Each card's and each row's price and 24 h change, read in one go (prices move every 2 s)."""
    return page.evaluate(
        """(() => Object.fromEntries([...document.querySelectorAll('#watch-table-body tr')].map((r) => {
              const c = document.querySelector(`.card[data-symbol="${r.dataset.symbol}"]`);
              return [r.dataset.symbol, { row: [r.querySelector('.row-price span').textContent,
                                                r.querySelector('.day-change').textContent],
                                         card: [c.querySelector('.price').textContent,
                                                c.querySelector('.day-change').textContent] }]; })))()"""
    )


def heading(page: Page, key: str):
    return page.locator(f'#watch-table thead th[data-sort="{key}"]')


def sort_by(page: Page, key: str, expected: str) -> None:
    heading(page, key).get_by_role("button").click()
    expect(heading(page, key)).to_have_attribute("aria-sort", expected)


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1440, "dark")])
def test_the_table_shows_the_cards_figures_sorts_and_remembers(
    browser: Browser, stack: Stack, app, width: int, scheme: str
):
    seed_day(app)
    seed_day(app, "ETH-USD", base=3_500)
    context, page, errors = open_page(browser, stack.base_url, width=width, height=844, color_scheme=scheme)
    page.evaluate("localStorage.clear()")
    wait_for_prices(page)
    page.locator("#watch-view").get_by_role("button", name="Table").click()
    expect(page.locator("#watch-table")).to_be_visible()
    expect(page.locator("#cards")).to_be_hidden()
    assert rows(page) == WATCHED  # the watchlist's order

    # The row says what the card says, and follows the live prices.
    first = figures(page)
    assert all(f["row"][0] == f["card"][0] and f["card"][1].endswith(f["row"][1]) for f in first.values()), first
    assert re.fullmatch(r"[▲▼■] [+−]?\d+\.\d{2}%", first["BTC-USD"]["row"][1])
    day_range = page.locator('#watch-table-body tr[data-symbol="BTC-USD"] td').nth(3)
    expect(day_range).to_have_text(re.compile(r"^[\d,]+\.\d{2} – [\d,]+\.\d{2}$"))
    wait_in_page(
        page,
        "(before) => document.querySelector('#watch-table-body tr[data-symbol=\"DOGE-USD\"] .row-price span')"
        ".textContent !== before",
        "a new DOGE-USD price in its row",
        arg=first["DOGE-USD"]["row"][0],
        seconds=15,
    )

    # Price: high first, then low first, then the watchlist's order again.
    sort_by(page, "price", "descending")
    assert rows(page) == ["BTC-USD", "ETH-USD", "DOGE-USD"]
    sort_by(page, "price", "ascending")
    assert rows(page) == ["DOGE-USD", "ETH-USD", "BTC-USD"]
    sort_by(page, "price", "none")
    assert rows(page) == WATCHED
    sort_by(page, "symbol", "ascending")
    assert rows(page) == ["BTC-USD", "DOGE-USD", "ETH-USD"]
    sort_by(page, "day", "descending")
    changes = page.locator("#watch-table-body .day-change").all_inner_texts()
    percents = [float(t.split()[-1].rstrip("%").replace("−", "-")) for t in changes]
    assert percents == sorted(percents, reverse=True), changes
    page.screenshot(path=str(ARTIFACTS / f"watchlist-table-{width}-{scheme}.png"))

    if width < 600:  # a phone: the table scrolls sideways, the symbol stays at the left edge
        box = page.locator("#watch-table-box")
        assert box.evaluate("(b) => b.scrollWidth > b.clientWidth")
        box.evaluate("(b) => { b.scrollLeft = b.scrollWidth; }")
        symbol_x = page.locator('#watch-table-body tr[data-symbol="BTC-USD"] th').bounding_box()["x"]
        assert symbol_x == pytest.approx(box.bounding_box()["x"], abs=2)

    # Remembered: the view and the sort, after a reload.
    page.reload()
    wait_for_prices(page)
    expect(page.locator("#watch-table")).to_be_visible()
    expect(heading(page, "day")).to_have_attribute("aria-sort", "descending")

    # A symbol opens its chart; Cards brings the cards back.
    page.locator('#watch-table-body tr[data-symbol="ETH-USD"] .row-open').click()
    dialog = page.locator("#chart-modal")
    expect(dialog).to_have_attribute("data-symbol", "ETH-USD")
    page.keyboard.press("Escape")
    page.locator("#watch-view").get_by_role("button", name="Cards").click()
    expect(card(page, "BTC-USD")).to_be_visible()
    expect(page.locator("#watch-table-box")).to_be_hidden()
    context.close()
    assert errors == []
