"""The Portfolio pane in Chromium against the whole stack: positions valued live through the real
pipeline, the allocation and value charts, the transaction form, a CSV import, a held symbol's
line on its card; at a phone's and a desktop's width, light and dark."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Browser, expect

from devstack.processes import Stack
from tests.conftest import ARTIFACTS
from tests.integration.browser import card, open_page, swipe, wait_for_prices


def trade(stack: Stack, **body: str) -> dict:
    made = requests.post(f"{stack.base_url}/api/transactions", json=body, timeout=10)
    assert made.status_code == 201, made.text
    return made.json()["transaction"]


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1440, "dark")])
def test_the_portfolio_pane_values_positions_live_and_takes_transactions(
    browser: Browser, stack: Stack, tmp_path, width: int, scheme: str
):
    trade(stack, symbol="BTC-USD", side="buy", quantity="0.5", price="90000", fees="5", date="2026-01-05")
    trade(stack, symbol="ETH-USD", side="buy", quantity="2", price="3000", date="2026-01-06")
    context, page, errors = open_page(
        browser, stack.base_url, width=width, height=900, color_scheme=scheme, timezone_id="Asia/Tokyo"
    )
    page.evaluate("localStorage.clear()")
    wait_for_prices(page)
    page.locator("#pane-view").get_by_role("button", name="Portfolio").click()
    pane = page.locator("#portfolio-pane")
    expect(pane).to_be_visible()
    expect(page.locator("#cards")).to_be_hidden()
    rows = page.locator("#holdings-body tr")
    expect(rows).to_have_count(2)
    btc = page.locator('#holdings-body tr[data-symbol="BTC-USD"]')
    expect(btc.locator("td").nth(0)).to_have_text("0.5")
    expect(btc.locator("td").nth(1)).to_have_text("90,010.00")  # average cost, the fees in
    expect(page.locator("#portfolio-totals dt")).to_have_text(["Value", "Day", "Unrealised", "Realised", "Total P&L"])
    expect(page.locator("#portfolio-rates")).to_contain_text("Totals in USD")
    box = page.locator("#holdings-box")
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth")  # every figure in view: no sideways scroll
    value = btc.locator("td").nth(3)
    expect(value).to_have_attribute("data-label", "Value")
    expect(value).to_be_in_viewport()
    if width == 390:  # stacked: the value below the symbol, beside the quantity's row
        assert value.bounding_box()["y"] > btc.locator("th").bounding_box()["y"] + 10

    # Live: the positions are valued again as the stack's prices move.
    first = pane.get_attribute("data-value")
    expect(pane).not_to_have_attribute("data-value", first or "", timeout=20_000)
    labels = page.evaluate("Chart.getChart('allocation-chart').data.labels")
    assert sorted(labels) == ["BTC-USD", "ETH-USD"]
    expect(pane).to_have_attribute("data-value-points", re.compile(r"^[1-9]\d*$"), timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / f"portfolio-{width}-{scheme}.png"), full_page=True)
    btc.get_by_role("button", name="BTC-USD: open chart").click()  # a position's symbol opens its chart
    expect(page.locator("#chart-modal")).to_be_visible()
    expect(page.locator("#chart-title")).to_contain_text("BTC-USD")
    page.keyboard.press("Escape")
    expect(page.locator("#chart-modal")).to_be_hidden()

    # The form: a sell of more than is held is refused under its quantity; a good one is added.
    form = page.locator("#trade-form")
    form.locator("#trade-symbol").select_option("BTC-USD")
    form.locator("#trade-side").select_option("sell")
    form.locator("#trade-date").fill("2026-02-01")
    form.locator("#trade-quantity").fill("10")
    form.locator("#trade-price").fill("100,000")
    form.get_by_role("button", name="Add transaction").click()
    expect(page.locator("#trade-quantity-error")).to_have_text(
        "sell of 10 BTC-USD on 2026-02-01 is more than the 0.5 held then"
    )
    form.locator("#trade-quantity").fill("0.2")
    expect(page.locator("#trade-quantity-error")).to_be_hidden()  # editing the field takes it away
    form.get_by_role("button", name="Add transaction").click()
    expect(page.locator("#trade-answer")).to_have_text("Added: Sell 0.2 BTC-USD at 100000")
    expect(btc.locator("td").nth(0)).to_have_text("0.3")
    expect(page.locator("#transactions li")).to_have_count(3)

    # A CSV: imported whole, or not at all with the line said.
    bad = tmp_path / "bad.csv"
    bad.write_text("date,symbol,side,quantity,price\n2026-03-01,DOGE-USD,buy,lots,0.2\n")
    page.locator("#trade-import").set_input_files(str(bad))
    expect(page.locator("#trade-answer")).to_have_text(
        "bad.csv: line 2: quantity must be a number. Nothing was imported."
    )
    good = tmp_path / "good.csv"
    good.write_text("date,symbol,side,quantity,price,fees\n2026-03-01,DOGE-USD,buy,1000,0.2,1\n")
    page.locator("#trade-import").set_input_files(str(good))
    expect(page.locator("#trade-answer")).to_have_text("Imported 1 transaction from good.csv")
    expect(rows).to_have_count(3)

    # Back on the watchlist, a held symbol's card says what is held.
    page.locator("#pane-view").get_by_role("button", name="Watchlist").click()
    held = re.compile(r"^Held 0\.3 · [\d,]+\.\d\d USD · [+−][\d,]+\.\d\d USD$")
    expect(card(page, "BTC-USD").locator(".holding")).to_have_text(held)
    expect(card(page, "DOGE-USD").locator(".holding")).to_contain_text("Held 1,000 · ")
    context.close()
    assert errors == []


def test_alerts_on_a_position_are_made_in_the_alert_form(browser: Browser, stack: Stack):
    context, page, errors = open_page(browser, stack.base_url, width=390, height=844)
    form = page.locator("#alert-form")
    form.locator("#alert-symbol").select_option("ETH-USD")
    form.locator("#alert-rule").select_option("pnl")
    expect(form.locator("#alert-pnl")).to_be_visible()
    expect(form.locator("#alert-threshold")).to_be_hidden()
    form.locator("#alert-position-side").select_option("below")
    form.locator("button[type=submit]").click()
    expect(page.locator("#pnl-error")).to_have_text("The P&L is required: a percentage, negative for a loss")
    form.locator("#alert-pnl").fill("-10")
    form.locator("button[type=submit]").click()
    expect(page.locator("#active-alerts li")).to_have_count(1, timeout=10_000)
    expect(page.locator("#active-alerts li").first).to_contain_text("ETH-USD position P&L at or below −10 %")
    form.locator("#alert-rule").select_option("value")
    expect(form.locator("#alert-threshold")).to_be_visible()
    form.locator("#alert-position-side").select_option("above")
    form.locator("#alert-threshold").fill("10,000")
    form.locator("button[type=submit]").click()
    expect(page.locator("#active-alerts li")).to_have_count(2, timeout=10_000)
    expect(page.locator("#active-alerts")).to_contain_text("ETH-USD position worth at or above 10,000.00")
    made = requests.get(f"{stack.base_url}/api/alerts?status=active", timeout=10).json()["alerts"]
    assert sorted((a["rule"], a["direction"]) for a in made) == [("pnl", "below"), ("value", "above")]
    context.close()
    assert errors == []


def test_on_a_phone_a_swipe_on_the_portfolio_charts_scrolls_the_page(browser: Browser, stack: Stack):
    """The price chart pans and pinches; the portfolio's charts take no gestures, so a swipe that
    starts on them must scroll the page. Chromium's synthetic swipe scrolled even over a canvas
    styled `touch-action: none` here, so the canvas' own value is checked as well."""
    trade(stack, symbol="BTC-USD", side="buy", quantity="1", price="90000", date="2026-01-05")
    context, page, errors = open_page(browser, stack.base_url, 390, 844, has_touch=True, is_mobile=True)
    try:
        page.locator("#pane-view").get_by_role("button", name="Portfolio").tap()  # a thumb's tap
        expect(page.locator("#holdings-body tr")).to_have_count(1)
        for chart in ("#allocation-chart", "#value-chart"):
            canvas = page.locator(chart)
            assert canvas.evaluate("c => getComputedStyle(c).touchAction") != "none", chart
            canvas.scroll_into_view_if_needed()
            page.evaluate(
                f"window.scrollTo(0, document.querySelector('{chart}').getBoundingClientRect().top + scrollY - 300)"
            )
            box = canvas.bounding_box()
            assert box is not None
            scrolled = page.evaluate("scrollY")
            swipe(page, box["x"] + box["width"] / 2, box["y"] + 40, -250)
            page.wait_for_timeout(800)  # the fling settles
            assert page.evaluate("scrollY") - scrolled >= 150, chart
        page.get_by_role("button", name="BTC-USD: open chart").tap()  # a tap on a position opens its chart
        expect(page.locator("#chart-modal")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "portfolio-390-touch-chart.png"))
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1440, "dark")])
def test_alerts_on_the_whole_portfolio_are_made_in_the_alert_form(browser: Browser, stack: Stack, width, scheme):
    context, page, errors = open_page(
        browser, stack.base_url, width=width, height=900, color_scheme=scheme, timezone_id="Asia/Tokyo"
    )
    form = page.locator("#alert-form")
    form.locator("#alert-rule").select_option("total")
    expect(form.locator("#alert-symbol")).to_be_hidden()  # on the whole portfolio: no symbol
    expect(form.locator("#alert-position-side")).to_be_visible()
    form.locator("#alert-position-side").select_option("below")
    form.locator("#alert-threshold").fill("25,000")
    form.locator("button[type=submit]").click()
    expect(page.locator("#active-alerts")).to_contain_text("Portfolio worth at or below 25,000.00 USD", timeout=10_000)
    form.locator("#alert-rule").select_option("daily")
    expect(form.locator("#alert-frequency")).to_be_hidden()  # a summary goes out every day
    expect(form.locator("#alert-zone")).to_have_text("Your time (Asia/Tokyo)")
    form.locator("button[type=submit]").click()
    expect(page.locator("#at-error")).to_have_text("The time of day must be a time of day, like 18:00")
    form.locator("#alert-at").fill("18:30")
    form.locator("button[type=submit]").click()
    summary = page.locator("#active-alerts li", has_text="Portfolio summary every day at 18:30 (Asia/Tokyo)")
    expect(summary).to_have_count(1, timeout=10_000)
    expect(summary).not_to_contain_text("waiting")  # no symbol to be missing from a watchlist
    expect(summary.locator(".meta").first).to_have_text("every day")
    made = requests.get(f"{stack.base_url}/api/alerts?status=active", timeout=10).json()["alerts"]
    assert sorted((a["rule"], a["symbol"], a["at"], a["timezone"], a["currency"]) for a in made) == [
        ("daily", None, "18:30", "Asia/Tokyo", None),
        ("total", None, None, None, "USD"),
    ]
    summary.get_by_role("button", name=re.compile("^Edit alert")).click()
    expect(form.locator("#alert-at")).to_have_value("18:30")
    form.locator("#alert-at").fill("07:15")
    form.locator("button[type=submit]").click()
    expect(page.locator("#active-alerts")).to_contain_text("Portfolio summary every day at 07:15 (Asia/Tokyo)")
    page.screenshot(path=str(ARTIFACTS / f"portfolio-alerts-{scheme}-{width}.png"), full_page=False)
    context.close()
    assert errors == []
