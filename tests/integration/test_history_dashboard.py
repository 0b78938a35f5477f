"""History in the browser: range buttons, line and candles, the 24 h change and sparkline on cards."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, expect

from app.extensions import db
from app.market.prices import store_ticks
from app.market.ticks import Tick
from app.models import Backfill
from app.pipeline.pubsub import tell_pages
from app.services import redis_client
from devstack.processes import Stack
from tasks.backfill import backfill_step
from tests.conftest import ARTIFACTS
from tests.integration.browser import LOGIN_ENV, card, open_page, wait_for_prices, wait_in_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack_changes() -> dict[str, str]:
    return LOGIN_ENV


def seed_day(app, symbol: str = "BTC-USD", base: int = 94_000) -> None:
    """30 hours of one-minute prices ending a minute ago: every range has buckets to show."""
    start = datetime.now(UTC) - timedelta(hours=30)
    ticks = [
        Tick(
            symbol,
            Decimal(base + 40 * ((i * 7) % 23) - 400 + i // 10),
            start + timedelta(minutes=i),
            start,
            "simulated",
        )
        for i in range(30 * 60 - 1)
    ]
    with app.app_context():
        store_ticks(ticks)


@pytest.mark.parametrize("width", [375, 1440])
def test_ranges_switch_between_line_and_candles_and_keep_updating(browser: Browser, stack: Stack, app, width: int):
    seed_day(app)
    context, page, errors = open_page(browser, stack.base_url, width=width, height=900)
    wait_for_prices(page)
    btc = card(page, "BTC-USD")
    expect(btc.locator(".day-change")).to_have_text(re.compile(r"^24h [▲▼■] [+−]?\d+\.\d{2}%$"))
    expect(btc).to_have_attribute("data-spark-points", re.compile(r"^(4[89]|50)$"))
    btc.click()
    dialog = page.locator("#chart-modal")
    expect(dialog).to_have_attribute("data-range", "live")
    expect(dialog.get_by_role("button", name="Candles", exact=True)).to_be_disabled()  # Live is ticks: a line

    dialog.get_by_role("button", name="24H", exact=True).click()
    expect(dialog).to_have_attribute("data-source", "candles_1m", timeout=10_000)
    expect(page.locator("#chart-title")).to_have_text("BTC-USD: last 24 hours")
    points = int(dialog.get_attribute("data-points"))
    assert 20 <= points <= 500
    expect(dialog.get_by_role("button", name="24H", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#chart-status")).to_contain_text("buckets of")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"chart-24h-line-{width}.png"))

    dialog.get_by_role("button", name="Candles", exact=True).click()
    expect(dialog).to_have_attribute("data-style", "candles")
    expect(dialog.get_by_role("button", name="Candles", exact=True)).to_have_attribute("aria-pressed", "true")
    wait_in_page(page, "Chart.getChart('chart-canvas')?.config.type === 'candlestick'", "the candlestick chart")
    ohlc = page.evaluate("Chart.getChart('chart-canvas').data.datasets[0].data.at(-2)")
    assert ohlc["l"] <= min(ohlc["o"], ohlc["c"]) <= max(ohlc["o"], ohlc["c"]) <= ohlc["h"]
    last = dialog.get_attribute("data-last")
    expect(dialog).not_to_have_attribute("data-last", last, timeout=15_000)  # a live price folded in
    page.screenshot(path=str(ARTIFACTS / f"chart-24h-candles-{width}.png"))

    # Keyboard: the range buttons are in the tab order and work with Enter.
    dialog.get_by_role("button", name="7D", exact=True).focus()
    page.keyboard.press("Enter")
    expect(dialog).to_have_attribute("data-range", "7d", timeout=10_000)
    expect(dialog).to_have_attribute("data-style", "candles")  # the style is kept across ranges
    dialog.get_by_role("button", name="All", exact=True).click()
    expect(dialog).to_have_attribute("data-range", "all")
    expect(dialog).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"), timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / f"chart-all-candles-{width}.png"))
    dialog.get_by_role("button", name="Live", exact=True).click()
    expect(dialog).to_have_attribute("data-style", "line", timeout=10_000)
    expect(dialog).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"), timeout=10_000)
    assert page.evaluate("Chart.getChart('chart-canvas').config.type") == "line"
    # Nothing in the controls leaves the dialog at this width.
    overflow = page.evaluate(
        "[...document.querySelectorAll('.chart-controls button')].filter(b => b.getBoundingClientRect().right >"
        " document.getElementById('chart-modal').getBoundingClientRect().right).length"
    )
    assert overflow == 0
    context.close()
    assert errors == []


def test_a_range_with_no_data_says_so(browser: Browser, stack: Stack, app):
    context, page, errors = open_page(browser, stack.base_url)
    wait_for_prices(page)
    # Minutes of history: the card says since when, not "24h".
    expect(card(page, "ETH-USD").locator(".day-change")).to_have_text(re.compile(r"^since .+ [▲▼■] [+−]?\d+\.\d{2}%$"))
    page.evaluate("localStorage.setItem('chart-range', '1y')")  # the range chosen last time
    page.reload()
    wait_for_prices(page)
    card(page, "ETH-USD").click()
    dialog = page.locator("#chart-modal")
    expect(dialog).to_have_attribute("data-range", "1y")
    expect(page.locator("#chart-status")).not_to_have_text("Loading…", timeout=10_000)
    # A fresh stack has minutes of ETH: a few hourly buckets at most, never an error.
    expect(page.locator("#chart-status")).to_have_text(re.compile(r"^(\d+ buckets? of 1 d|No prices stored)"))
    context.close()
    assert errors == []


def test_a_range_of_one_bucket_draws_it_and_all_of_minutes_labels_no_month_eight_times(browser: Browser, stack: Stack):
    """On a new install 24H candles showed one bucket as an empty 0-1 axis, and "All" labelled its
    axis "Nov 2026" eight times (issue 21)."""
    context, page, errors = open_page(browser, stack.base_url)
    try:
        wait_for_prices(page)
        page.evaluate("localStorage.setItem('chart-range', '24h'); localStorage.setItem('chart-style', 'candles')")
        page.reload()
        wait_for_prices(page)
        card(page, "DOGE-USD").click()  # minutes of DOGE: one bucket of 24 h's size
        expect(page.locator("#chart-modal")).to_have_attribute("data-style", "candles")
        expect(page.locator("#chart-status")).to_have_text(re.compile(r"^1 bucket of "), timeout=10_000)
        scale = (
            "(axis) => { const s = Chart.getChart(document.getElementById('chart-canvas')).scales[axis]; "
            "return {min: s.min, max: s.max, labels: s.ticks.map((t) => t.label)}; }"
        )
        y = page.evaluate(f"({scale})('y')")
        price = float(card(page, "DOGE-USD").locator(".price").inner_text())
        assert y["min"] < price < y["max"] and y["max"] - y["min"] < price * 0.05, y  # around it, not 0 to 1
        page.get_by_role("button", name="All").click()
        expect(page.locator("#chart-modal")).to_have_attribute("data-range", "all")
        expect(page.locator("#chart-status")).not_to_have_text("Loading…", timeout=10_000)
        labels = [label for label in page.evaluate(f"({scale})('x')")["labels"] if label]
        assert labels and len(labels) == len(set(labels)), labels
        page.screenshot(path=str(ARTIFACTS / "chart-one-bucket.png"))
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 1440])
def test_a_backfilled_year_draws_daily_candles_with_volume_and_says_it_is_simulated(
    browser: Browser, stack: Stack, app, width: int
):
    """Issue 21: on a new install 1Y is full at once, from the simulator's past, labelled so."""
    with app.app_context():
        backfill_step.run()
        until = db.session.get(Backfill, "BTC-USD").until
    context, page, errors = open_page(browser, stack.base_url, width=width, height=900)
    try:
        wait_for_prices(page)
        page.evaluate("localStorage.setItem('chart-range', '1y'); localStorage.setItem('chart-style', 'candles')")
        page.reload()
        wait_for_prices(page)
        # The card's context, from the backfilled candles and the live ones.
        figures = card(page, "BTC-USD").locator(".context")
        expect(figures.locator("dt")).to_have_text(["Open", "Prev close", "Day", "52 wk", "Vol 24 h"])
        low, high = (float(v.replace(",", "")) for v in figures.locator("dd").nth(3).inner_text().split(" – "))
        price = float(card(page, "BTC-USD").locator(".price").inner_text().replace(",", ""))
        assert low < high and low <= price * 1.05, (low, high, price)
        page.screenshot(path=str(ARTIFACTS / f"card-context-{width}.png"))
        card(page, "BTC-USD").click()
        expect(page.locator("#chart-context")).to_contain_text("Prev close")
        expect(page.locator("#chart-context")).to_contain_text("52 wk")
        status = page.locator("#chart-status")
        expect(status).to_have_text(
            re.compile(r"^\d+ buckets of \d+ d, .* · simulated history before "), timeout=10_000
        )
        assert str(until.year) in status.inner_text()
        expect(page.locator("#chart-modal")).to_have_attribute("data-source", "candles_1d")
        drawn = page.evaluate(
            "() => Chart.getChart(document.getElementById('chart-canvas'))"
            ".data.datasets.map((d) => [d.label, d.data.length])"
        )
        assert drawn[0][0] == "BTC-USD" and drawn[1][0] == "volume" and drawn[0][1] == drawn[1][1] >= 30, drawn
        page.screenshot(path=str(ARTIFACTS / f"chart-backfilled-year-{width}.png"))
        assert errors == []
    finally:
        context.close()


def test_a_card_shows_how_far_its_history_has_loaded(browser: Browser, stack: Stack, app):
    with app.app_context():
        until = datetime.now(UTC)
        db.session.add(Backfill(symbol="ETH-USD", source="simulated", until=until, chunks_total=23, chunks_done=10,
                                state="running"))  # fmt: skip
        db.session.commit()
    context, page, errors = open_page(browser, stack.base_url)
    try:
        wait_for_prices(page)
        history = card(page, "ETH-USD").locator(".history")
        expect(history).to_have_text("loading history: 43 %")
        expect(card(page, "BTC-USD").locator(".history")).to_be_hidden()
        with app.app_context():
            tell_pages(redis_client(), {"type": "history", "symbol": "ETH-USD", "state": "done", "percent": 100})
        expect(history).to_be_hidden()
        assert errors == []
    finally:
        context.close()
