"""A dashboard you can trust all day: each numbered item of the issue, in Chromium, against the
real stack, with parts of it paused and restarted."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
import requests
from playwright.sync_api import Browser, Page, WebSocketRoute, expect
from sqlalchemy import text

from app.extensions import db
from app.market.prices import last_prices, store_ticks
from app.market.ticks import Tick
from devstack.processes import Stack, running_stack
from devstack.run import procfile_commands
from tests.conftest import ARTIFACTS
from tests.integration.browser import LOGIN_ENV, TEST_USER, card, open_page, sign_in, wait_for_prices
from tests.integration.conftest import signed_in_headers
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.browser
HEALTH_MAX_AGE = 5


@pytest.fixture(scope="module")
def stack(app, server_env, tmp_path_factory) -> Iterator[Stack]:
    with running_stack(
        server_env,
        tmp_path_factory.mktemp("trust-logs"),
        HEALTH_MAX_TICK_AGE_SECONDS=str(HEALTH_MAX_AGE),
        **LOGIN_ENV,
    ) as running:
        running.headers = signed_in_headers(app)
        yield running


def api(stack: Stack, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{stack.base_url}{path}", headers=stack.headers, timeout=10, **kwargs)


def paused(stack: Stack, name: str, signal_number: int) -> None:
    os.killpg(stack.procs[name].pid, signal_number)


def test_1_a_paused_worker_turns_cards_stale_the_badge_delayed_and_healthz_503(page: Page, stack: Stack):
    wait_for_prices(page)
    expect(page.locator("#connection")).to_have_text("live")
    paused(stack, "worker", signal.SIGSTOP)
    try:
        expect(card(page, "BTC-USD").locator(".meta")).to_have_text(re.compile(r"^stale, last price \d+ s ago$"),
                                                                    timeout=15_000)  # fmt: skip
        expect(page.locator("#connection")).to_have_attribute("data-state", "delayed")
        expect(page.locator("#connection")).to_have_text("delayed: no new prices")
        wait_for(lambda: api(stack, "GET", "/healthz").status_code == 503, 15, "/healthz to answer 503")
        health = api(stack, "GET", "/healthz").json()
        assert re.fullmatch(
            rf"last tick \d+ s old \(limit {HEALTH_MAX_AGE} s\); \w+ is late", health["checks"]["prices"]
        )
        assert health["last_tick_age_seconds"] > HEALTH_MAX_AGE
    finally:
        paused(stack, "worker", signal.SIGCONT)
    expect(page.locator("#connection")).to_have_text("live", timeout=20_000)
    expect(card(page, "BTC-USD").locator(".meta")).to_have_text(re.compile(r"^updated "))
    wait_for(lambda: api(stack, "GET", "/healthz").status_code == 200, 20, "/healthz back to 200")


def test_2_the_simulated_price_continues_across_a_restart_of_the_processes_and_redis(app, stack: Stack, settings):
    now = datetime.now(UTC)
    with app.app_context():  # a walk that has wandered far from the simulator's start price
        store_ticks([Tick("BTC-USD", Decimal("80000.00"), now, now, "simulated")])
    stack.stop("worker", "beat")
    redis.Redis.from_url(settings.redis_url).flushall()  # as a Redis that lost its data: the database has the walk
    commands = procfile_commands()
    stack.start("worker", commands["worker"])
    stack.start("beat", commands["beat"])

    def next_btc() -> Decimal | None:
        with app.app_context():
            price = db.session.scalar(
                text(
                    "SELECT price FROM ticks WHERE symbol = 'BTC-USD' AND observed_at > :t ORDER BY observed_at LIMIT 1"
                ),
                {"t": now},
            )
            db.session.rollback()
        return price

    first = wait_for(next_btc, 60, "a BTC tick after the restart")
    assert abs(first / Decimal(80000) - 1) < Decimal("0.005"), f"jumped from 80,000.00 to {first}"
    with app.app_context():
        assert last_prices(["BTC-USD"])["BTC-USD"] == first


def test_2_the_chart_breaks_its_line_where_no_ticks_were_recorded(page: Page, app):
    start = datetime.now(UTC) - timedelta(minutes=30)
    with app.app_context():  # 20 ticks, 10 minutes of nothing, 20 more
        ticks = [Tick("ETH-USD", Decimal(3500 + i), start + timedelta(seconds=2 * i), start, "simulated")
                 for i in [*range(20), *range(320, 340)]]  # fmt: skip
        store_ticks(ticks)
    wait_for_prices(page)
    card(page, "ETH-USD").click()
    dialog = page.locator("#chart-modal")
    expect(dialog).to_have_attribute("data-gaps", re.compile(r"^[1-9]"), timeout=10_000)


def label_boxes(page: Page) -> list[tuple[float, float]]:
    """Left and right edge of each x-axis label as Chart.js drew it (a blank label draws nothing)."""
    return page.evaluate(
        """() => {
        const chart = Chart.getChart(document.getElementById('chart-canvas'));
        const ctx = chart.ctx;
        return chart.scales.x.getLabelItems().filter((item) => item.label !== '').map((item) => {
          ctx.save(); ctx.font = item.font.string;
          const width = ctx.measureText(item.label).width; ctx.restore();
          const x = item.options.translation[0];
          const align = item.options.textAlign;
          const left = align === 'left' ? x : align === 'right' ? x - width : x - width / 2;
          return [left, left + width];
        });
      }"""
    )


# The page's font, and a wider one (another machine's fonts: CI once drew 13 px labels 76 px wide,
# 70 px apart, where Chart.js's auto-skip kept all three).
@pytest.mark.parametrize(("width", "font"), [(390, None), (1440, None), (390, "serif 13"), (360, "serif 14")])
def test_3_chart_time_labels_never_overlap(browser: Browser, stack: Stack, app, width: int, font: str | None):
    start = datetime.now(UTC) - timedelta(seconds=400)
    with app.app_context():
        store_ticks([Tick("DOGE-USD", Decimal("0.16"), start + timedelta(seconds=2 * i), start, "simulated")
                     for i in range(200)])  # fmt: skip
    context, page, errors = open_page(browser, stack.base_url, width=width, height=844)
    if font:
        family, size = font.split()
        page.evaluate(f"Chart.defaults.font.family = '{family}'; Chart.defaults.font.size = {size};")
    # Clicked once its price is in: the banner the first simulated price shows moves the cards down.
    expect(card(page, "DOGE-USD").locator(".price")).not_to_have_text("–", timeout=30_000)
    card(page, "DOGE-USD").click()
    expect(page.locator("#chart-modal")).to_have_attribute("data-points", re.compile(r"^\d{2,}"), timeout=10_000)
    boxes = label_boxes(page)
    assert len(boxes) >= 2
    assert all(left >= right_before for (_, right_before), (left, _) in zip(boxes, boxes[1:], strict=False))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"chart-labels-{width}{'-' + font.replace(' ', '') if font else ''}.png"))
    context.close()
    assert errors == []


def test_4_a_fired_alert_shows_in_view_while_scrolled_down(browser: Browser, stack: Stack):
    context, page, errors = open_page(browser, stack.base_url, width=390, height=844)
    wait_for_prices(page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    api(stack, "POST", "/api/alerts", json={"symbol": "ETH-USD", "rule": "above", "threshold": 1})
    banner = page.locator(".banner")
    expect(banner).to_have_count(1, timeout=20_000)
    box = banner.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844
    assert page.evaluate("window.scrollY") > 0  # still scrolled down: the notice came to the reader
    expect(page.locator("#banners")).to_have_attribute("aria-live", "assertive")
    page.screenshot(path=str(ARTIFACTS / "fired-alert-390-scrolled.png"))
    context.close()
    assert errors == []


@pytest.mark.parametrize("width", [390, 1440])
def test_4_fired_alerts_are_one_line_that_covers_no_field_and_clears_itself(browser: Browser, stack: Stack, width):
    """Banners stacked, never went away and covered the alert form, the channel form and (on a
    phone) the add-symbol box (issue 20)."""
    context, page, errors = open_page(browser, stack.base_url, width=width, height=844)
    wait_for_prices(page)
    for symbol, threshold in (("BTC-USD", 1), ("ETH-USD", 1), ("DOGE-USD", 0.0001)):
        api(stack, "POST", "/api/alerts", json={"symbol": symbol, "rule": "above", "threshold": threshold})
    banner = page.locator(".banner")
    expect(banner.locator(".banner-more")).to_have_text("+2 more in Triggered", timeout=20_000)
    expect(banner).to_have_count(1)
    top = page.locator("#top")
    for field in ("#new-symbol", "#alert-threshold", "#alert-note", "#channel-name", "#channel-url"):
        page.focus(field)
        page.wait_for_timeout(300)  # the scroll settles
        bar, box = top.bounding_box(), page.locator(field).bounding_box()
        assert bar is not None and box is not None
        assert box["y"] >= bar["y"] + bar["height"], f"{field} is under the top bar at {width} px"
    page.screenshot(path=str(ARTIFACTS / f"fired-alerts-{width}.png"))
    page.locator("#alert-note").focus()  # not the notice: it goes by itself
    expect(banner).to_have_count(0, timeout=15_000)
    expect(page.locator("#triggered-alerts li")).to_have_count(3)
    context.close()
    assert errors == []


def test_5_at_1024_px_the_cards_share_one_row_and_times_do_not_wrap(browser: Browser, stack: Stack):
    response = api(stack, "POST", "/api/alerts", json={"symbol": "BTC-USD", "rule": "below", "threshold": 10**9})
    alert_id = response.json()["alert"]["id"]
    context, page, errors = open_page(browser, stack.base_url, width=1024, height=768)
    wait_for_prices(page)
    tops = {round(card(page, s).bounding_box()["y"]) for s in ("BTC-USD", "ETH-USD", "DOGE-USD")}
    assert len(tops) == 1, f"cards wrap onto {len(tops)} rows"
    fired = page.locator(f'#triggered-alerts li[data-id="{alert_id}"] .meta').first
    expect(fired).to_contain_text("triggered", timeout=20_000)
    meta = fired.inner_text()
    assert not re.search(r"\d [AP]M", meta)  # no breakable space inside a time
    page.screenshot(path=str(ARTIFACTS / "dashboard-1024.png"), full_page=True)
    context.close()
    assert errors == []


def test_6_the_page_says_an_alert_would_fire_at_once_and_a_duplicate_is_refused(page: Page):
    wait_for_prices(page)
    page.select_option("#alert-symbol", "BTC-USD")
    page.select_option("#alert-rule", "above")
    page.fill("#alert-threshold", "100")
    preview = page.locator("#alert-preview")
    expect(preview).to_have_text(re.compile(r"^BTC-USD is already above 100\.0000 \(now [\d,.]+\): "
                                            r"this alert fires on the next price\.$"))  # fmt: skip
    page.fill("#alert-threshold", "10,000,000")  # written as the page writes prices
    expect(preview).to_be_hidden()
    page.get_by_role("button", name="Add alert").click()
    expect(page.locator("#active-alerts li")).to_have_count(1)
    page.fill("#alert-threshold", "10000000")
    page.get_by_role("button", name="Add alert").click()
    expect(page.locator("#form-error")).to_contain_text("an identical alert is already active: #")
    expect(page.locator("#active-alerts li")).to_have_count(1)


def test_7_recently_triggered_is_ordered_by_trigger_time_after_a_reload(page: Page, stack: Stack, app):
    first = api(stack, "POST", "/api/alerts", json={"symbol": "ETH-USD", "rule": "above", "threshold": 10**9})
    second = api(stack, "POST", "/api/alerts", json={"symbol": "ETH-USD", "rule": "above", "threshold": 10**10})
    ids = [first.json()["alert"]["id"], second.json()["alert"]["id"]]
    with app.app_context():  # made first, fired last
        db.session.execute(
            text("UPDATE alerts SET status = 'triggered', triggered_price = 1, fire_count = 1,"
                 " triggered_at = now() - make_interval(secs => CASE WHEN id = :a THEN 10 ELSE 60 END)"
                 " WHERE id = ANY(:ids)"),
            {"a": ids[0], "ids": ids},
        )  # fmt: skip
        db.session.commit()
    page.reload()
    items = page.locator("#triggered-alerts li")
    expect(items).to_have_count(2)
    assert [int(i) for i in items.evaluate_all("(els) => els.map((e) => e.dataset.id)")] == ids


def test_8_server_unreachable_is_said_in_words_the_input_kept_and_retry_works(page: Page):
    wait_for_prices(page)
    page.route("**/api/alerts", lambda route: route.abort("connectionrefused"))
    page.select_option("#alert-symbol", "DOGE-USD")
    page.select_option("#alert-rule", "below")
    page.fill("#alert-threshold", "0.01")
    page.get_by_role("button", name="Add alert").click()
    error = page.locator("#form-error")
    expect(error).to_contain_text("The server did not answer. Check that it is running and your connection")
    assert "Failed to fetch" not in error.inner_text()
    expect(page.locator("#alert-threshold")).to_have_value("0.01")
    page.unroute("**/api/alerts")
    error.get_by_role("button", name="Retry").click()
    expect(page.locator("#active-alerts li")).to_have_count(1)

    page.route("**/history/**", lambda route: route.abort("connectionrefused"))
    card(page, "DOGE-USD").click()
    status = page.locator("#chart-status")
    expect(status).to_contain_text("Could not load the history: The server did not answer.")
    expect(page.locator(".chart-box")).to_be_hidden()
    page.unroute("**/history/**")
    status.get_by_role("button", name="Retry").click()
    expect(status).to_contain_text("points, updating live")
    expect(page.locator(".chart-box")).to_be_visible()


def test_9_deleting_with_the_keyboard_moves_focus_to_the_next_item_then_the_heading(page: Page, stack: Stack):
    for threshold in (1, 2):
        api(stack, "POST", "/api/alerts", json={"symbol": "BTC-USD", "rule": "below", "threshold": threshold})
    page.reload()
    items = page.locator("#active-alerts li")
    expect(items).to_have_count(2)
    items.first.locator("button.danger").focus()
    page.keyboard.press("Enter")
    expect(items).to_have_count(1)
    assert page.evaluate("document.activeElement.closest('li')?.dataset.id") == items.first.get_attribute("data-id")
    page.keyboard.press("Enter")
    expect(items).to_have_count(0)
    assert page.evaluate("document.activeElement.id") == "active-heading"


def test_10_the_countdown_runs_retry_now_works_and_the_page_is_back_within_2_s(page: Page):
    wait_for_prices(page)
    state = {"down": True}

    def server(ws: WebSocketRoute) -> None:
        if state["down"]:
            ws.close()
        else:
            ws.connect_to_server()

    page.route_web_socket("**/ws", server)
    page.context.set_offline(True)  # drops the open socket; the route refuses the next ones
    page.context.set_offline(False)
    label = page.locator("#connection")
    expect(label).to_have_attribute("data-state", "reconnecting")
    expect(label).to_have_text(re.compile(r"^reconnecting in [0-2] s…$"))
    retry = page.get_by_role("button", name="Retry now")
    expect(retry).to_be_visible()
    retry.click()
    expect(label).to_have_attribute("data-state", "reconnecting")
    state["down"] = False
    back = datetime.now(UTC)
    expect(label).to_have_attribute("data-state", "connected", timeout=2_500)
    assert (datetime.now(UTC) - back).total_seconds() <= 2.5
    expect(retry).to_be_hidden()


def test_11_alerts_added_and_deleted_in_one_tab_appear_in_another(browser: Browser, stack: Stack):
    one, first, errors_one = open_page(browser, stack.base_url)
    two, second, errors_two = open_page(browser, stack.base_url)
    first.select_option("#alert-symbol", "ETH-USD")
    first.select_option("#alert-rule", "below")
    first.fill("#alert-threshold", "1.5")
    first.get_by_role("button", name="Add alert").click()
    expect(second.locator("#active-alerts li")).to_have_count(1, timeout=10_000)
    expect(second.locator("#active-alerts .alert-text")).to_have_text("ETH-USD at or below 1.5000")
    expect(first.locator("#active-alerts li")).to_have_count(1)  # its own answer and the socket: one item
    second.locator("#active-alerts button.danger").click()
    expect(first.locator("#active-alerts li")).to_have_count(0, timeout=10_000)
    one.close()
    two.close()
    assert errors_one == [] and errors_two == []


CONTRAST = """(selectors) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return rgb(getComputedStyle(document.body).backgroundColor);
  };
  return selectors.flatMap((selector) => [...document.querySelectorAll(selector)].slice(0, 3).map((el) => {
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    return [selector, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  }));
}"""
TEXTS = [".card .symbol", ".card .price", ".card .meta", ".change.up", ".change.down", ".badge", ".hint", "h2",
         ".field label", "#simulated", ".alert-list .alert-text", ".alert-list .meta", "button.primary",
         "button.danger", "#connection"]  # fmt: skip


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_both_colour_schemes_keep_text_at_4_5_to_1(browser: Browser, stack: Stack, scheme: str):
    api(stack, "POST", "/api/alerts", json={"symbol": "ETH-USD", "rule": "below", "threshold": 1})
    for width in (375, 1440):
        context = browser.new_context(viewport={"width": width, "height": 900}, base_url=stack.base_url,
                                      color_scheme=scheme)  # fmt: skip
        page = context.new_page()
        page.goto("/")
        sign_in(page)
        wait_for_prices(page)
        expect(page.locator(".change.up, .change.down").first).to_be_visible(timeout=20_000)
        ratios = page.evaluate(CONTRAST, TEXTS)
        low = [(selector, round(ratio, 2)) for selector, ratio in ratios if ratio < 4.5]
        assert ratios and not low, f"{scheme}: below 4.5:1: {low}"
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{scheme}-{width}.png"), full_page=True)
        context.close()


def test_alerts_are_listed_nearest_first_with_their_distance(page: Page, stack: Stack):
    wait_for_prices(page)
    price = float(card(page, "BTC-USD").locator(".price").inner_text().replace(",", ""))
    far, near = round(price * 1.5, 2), round(price * 1.1, 2)
    for threshold in (far, near):
        api(stack, "POST", "/api/alerts", json={"symbol": "BTC-USD", "rule": "above", "threshold": threshold})
    items = page.locator("#active-alerts li")
    expect(items).to_have_count(2)
    expect(items.first.locator(".distance")).to_have_text(re.compile(r"^(9\.\d|10\.\d) % away$"))
    expect(items.nth(1).locator(".distance")).to_have_text(re.compile(r"^(49\.\d|50\.\d) % away$"))


def test_the_chart_header_shows_the_price_and_the_tab_title_a_fired_alert(page: Page, stack: Stack):
    wait_for_prices(page)
    card(page, "ETH-USD").click()
    expect(page.locator("#chart-price")).to_have_text(re.compile(r"^[\d,.]+ · [+−]?[\d,.]+ \([+−]?\d+\.\d\d%\) over"))
    page.keyboard.press("Escape")
    page.evaluate("""() => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
                             document.dispatchEvent(new Event('visibilitychange')); }""")
    api(stack, "POST", "/api/alerts", json={"symbol": "DOGE-USD", "rule": "above", "threshold": "0.0001"})
    expect(page).to_have_title("🔔 DOGE-USD alert – Stock Ticker", timeout=20_000)
    page.evaluate("""() => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
                             document.dispatchEvent(new Event('visibilitychange')); }""")
    expect(page).to_have_title("Stock Ticker")
    icon = page.request.get("/static/favicon.svg")
    assert icon.ok and b"<svg" in icon.body()
    icon.dispose()


@pytest.mark.parametrize("width", [390, 1024, 1440])
def test_card_contents_stay_inside_their_cards(browser: Browser, stack: Stack, width: int):
    context, page, errors = open_page(browser, stack.base_url, width=width)
    wait_for_prices(page)
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.card')].flatMap((card) => {
             const box = card.getBoundingClientRect();
             return [...card.querySelectorAll('*')].filter((el) => {
               const r = el.getBoundingClientRect(); // an element not rendered (empty listing) has no box
               return r.width + r.height > 0 && (r.right > box.right + 0.5 || r.left < box.left - 0.5);
             }).map((el) => `${card.dataset.symbol} ${el.className}`);
           })"""
    )
    assert overflowing == []
    context.close()
    assert errors == []


def test_the_sign_in_page_says_what_was_wrong_keeps_the_name_and_then_lets_you_in(browser: Browser, stack: Stack):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=stack.base_url)
    page = context.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    sign_in_attempt = page.locator("#login-form button[type=submit]")
    page.fill("#username", TEST_USER)
    page.fill("#password", "not the password")
    sign_in_attempt.click()
    expect(page.locator("#login-error")).to_have_text("wrong username or password")
    expect(page.locator("#username")).to_have_value(TEST_USER)
    expect(page).to_have_url(re.compile(r"/login$"))
    page.screenshot(path=str(ARTIFACTS / "login-1440.png"))
    sign_in(page)
    wait_for_prices(page)
    context.close()
