"""The chart's tools in the browser: zoom and pan, the crosshair, the log scale, indicators."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from devstack.processes import Stack
from tests.conftest import ARTIFACTS
from tests.integration.browser import LOGIN_ENV, card, open_page, wait_for_prices, wait_in_page
from tests.integration.helpers import wait_for
from tests.integration.test_history_dashboard import seed_day

pytestmark = pytest.mark.browser
WIDTHS = [390, 1440]


@pytest.fixture(scope="module")
def stack_changes() -> dict[str, str]:
    return LOGIN_ENV


def open_range(browser: Browser, stack: Stack, width: int, label: str = "24H", **options: object):
    context, page, errors = open_page(browser, stack.base_url, width=width, height=844, **options)
    page.evaluate("localStorage.clear()")
    wait_for_prices(page)
    card(page, "BTC-USD").click()
    dialog = page.locator("#chart-modal")
    dialog.get_by_role("button", name=label, exact=True).click()
    expect(dialog).to_have_attribute("data-source", "candles_1m", timeout=10_000)
    wait_in_page(page, "Number(document.getElementById('chart-modal').dataset.points) > 100", "the range's points")
    return context, page, errors


def x_scale(page: Page) -> dict[str, float]:
    return page.evaluate(
        "(() => { const s = Chart.getChart('chart-canvas').scales.x; return {min: s.min, max: s.max}; })()"
    )


def canvas_point(page: Page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of a point in the canvas's own pixels."""
    box = page.locator("#chart-canvas").bounding_box()
    assert box is not None
    return box["x"] + x, box["y"] + y


def level_above_prices(page: Page) -> int:
    """A level between the highest price shown and the axis' top: on the chart, not reached."""
    return page.evaluate(
        """(() => { const c = Chart.getChart('chart-canvas');
                   const highs = c.data.datasets[0].data.map((p) => p.h ?? p.y);
                   return Math.round((Math.max(...highs) + c.scales.y.max) / 2); })()"""
    )


def point_above_last_price(page: Page, level: float) -> tuple[float, float]:
    """Page coordinates halfway between the chart's last price and an alert line above it."""
    area, line_y, last_y = page.evaluate(
        """(level) => { const c = Chart.getChart('chart-canvas');
                       const last = c.data.datasets[0].data.findLast((p) => p.y !== null).y;
                       const y = c.scales.y;
                       return [c.chartArea, y.getPixelForValue(level), y.getPixelForValue(last)]; }""",
        level,
    )
    assert last_y - line_y > 20, (line_y, last_y)  # room for a press that is neither on the line nor the price
    return canvas_point(page, (area["left"] + area["right"]) / 2, (line_y + last_y) / 2)


def post_alert(stack: Stack, body: dict) -> dict:
    made = requests.post(f"{stack.base_url}/api/alerts", json=body, headers=stack.headers, timeout=10)
    assert made.status_code == 201, made.text
    return made.json()["alert"]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_wheel_zooms_a_drag_pans_reset_and_ranges_still_work(browser: Browser, stack: Stack, app, width: int):
    seed_day(app)
    context, page, errors = open_range(browser, stack, width)
    dialog = page.locator("#chart-modal")
    before = x_scale(page)
    area = page.evaluate("Chart.getChart('chart-canvas').chartArea")
    page.mouse.move(*canvas_point(page, (area["left"] + area["right"]) / 2, (area["top"] + area["bottom"]) / 2))
    for _ in range(5):
        page.mouse.wheel(0, -200)
    expect(page.locator("#chart-reset-zoom")).to_be_visible()
    # The zoom's end is told 250 ms after a wheel step (the plugin's debounce; CI's slow steps came
    # further apart): once the wheel is done it names the visible range.
    wait_in_page(
        page,
        "() => document.getElementById('chart-modal').dataset.visibleMin"
        " === String(Math.round(Chart.getChart('chart-canvas').scales.x.min))",
        "the zoom's end told",
    )
    zoomed = x_scale(page)
    assert before["min"] < zoomed["min"] < zoomed["max"] < before["max"]
    assert zoomed["max"] - zoomed["min"] < 0.8 * (before["max"] - before["min"])
    assert int(dialog.get_attribute("data-visible-min")) == round(zoomed["min"])

    # A drag to the right shows earlier prices: the same width of time, moved back.
    x, y = canvas_point(page, (area["left"] + area["right"]) / 2, (area["top"] + area["bottom"]) / 2)
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 8 * step, y)
    page.mouse.up()
    panned = x_scale(page)
    assert panned["min"] < zoomed["min"]
    assert panned["max"] - panned["min"] == pytest.approx(zoomed["max"] - zoomed["min"], rel=0.01)

    page.locator("#chart-reset-zoom").click()
    expect(page.locator("#chart-reset-zoom")).to_be_hidden()
    assert x_scale(page) == pytest.approx(before)

    page.mouse.move(*canvas_point(page, (area["left"] + area["right"]) / 2, (area["top"] + area["bottom"]) / 2))
    page.mouse.wheel(0, -400)
    expect(page.locator("#chart-reset-zoom")).to_be_visible()
    dialog.get_by_role("button", name="1H", exact=True).click()  # a range after zooming: the whole hour
    expect(dialog).to_have_attribute("data-range", "1h")
    expect(dialog).to_have_attribute("data-source", "ticks", timeout=10_000)
    expect(page.locator("#chart-reset-zoom")).to_be_hidden()
    hour = x_scale(page)
    assert hour["max"] - hour["min"] >= 3_500_000
    context.close()
    assert errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_crosshair_reads_the_bucket_and_price_under_the_pointer(browser: Browser, stack: Stack, app, width: int):
    seed_day(app)
    context, page, errors = open_range(browser, stack, width)
    dialog = page.locator("#chart-modal")
    # A known bucket: the 40th from the end; the pointer at its time and at a price in the axis.
    bucket = page.evaluate("Chart.getChart('chart-canvas').data.datasets[0].data.filter((p) => p.y !== null).at(-40)")
    layout = "(() => { const c = Chart.getChart('chart-canvas'); return [c.chartArea, c.scales.x.max]; })()"
    for _ in range(5):  # a live price past the axis' range relabels it and moves the buckets: aim again
        before = page.evaluate(layout)
        x, y, price, per_pixel = page.evaluate(
            """(t) => { const c = Chart.getChart('chart-canvas'); const ys = c.scales.y;
                       const y = (ys.top + ys.bottom) / 2; const at = (p) => ys.getValueForPixel(p);
                       return [c.scales.x.getPixelForValue(t), y, at(y), at(y) - at(y + 1)]; }""",
            bucket["x"],
        )
        page.mouse.move(*canvas_point(page, x, y))
        if page.evaluate(layout) == before:
            break
    expect(dialog).to_have_attribute("data-crosshair-time", page.evaluate(f"new Date({bucket['x']}).toISOString()"))
    # The price at the pointer's height, to the pixel (the mouse moves in whole page pixels).
    assert float(dialog.get_attribute("data-crosshair-price")) == pytest.approx(price, abs=per_pixel)
    tooltip = page.evaluate("Chart.getChart('chart-canvas').tooltip.dataPoints.map((p) => p.raw.x)")
    assert bucket["x"] in tooltip  # the tooltip shows that bucket's prices
    page.screenshot(path=str(ARTIFACTS / f"chart-crosshair-{width}.png"))
    page.mouse.move(1, 1)  # out of the chart: the crosshair goes
    expect(dialog).not_to_have_attribute("data-crosshair-time", re.compile(".*"))
    context.close()
    assert errors == []


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1440, "dark")])
def test_indicators_and_log_scale_draw_what_the_server_computed(
    browser: Browser, stack: Stack, app, width: int, scheme: str
):
    seed_day(app)
    context, page, errors = open_range(browser, stack, width, color_scheme=scheme)
    dialog = page.locator("#chart-modal")
    picker = page.locator("#chart-indicators")
    picker.locator("summary").click()
    picker.locator("[data-indicator=sma] input[type=checkbox]").check()
    expect(dialog).to_have_attribute("data-indicators", "sma:20", timeout=10_000)
    with page.expect_response(lambda r: "indicators=sma:10" in r.url) as asked:
        picker.locator("[data-indicator=sma] input[name=period]").fill("10")
    expect(dialog).to_have_attribute("data-indicators", "sma:10", timeout=10_000)
    answer = asked.value.json()
    drawn = page.evaluate("Chart.getChart('chart-canvas').data.datasets.find((d) => d.label === 'SMA 10').data")
    # What the server computed, on its buckets (the newest may have had a live price since).
    times = page.evaluate("(ts) => ts.map((t) => Date.parse(t))", [p["t"] for p in answer["points"]])
    assert [p["x"] for p in drawn] == times
    assert [p["y"] for p in drawn] == answer["indicators"]["sma:10"]
    assert answer["indicators"]["sma:10"][-1] == pytest.approx(sum(p["close"] for p in answer["points"][-10:]) / 10)

    picker.locator("[data-indicator=bb] input[type=checkbox]").check()
    picker.locator("[data-indicator=rsi] input[type=checkbox]").check()
    expect(dialog).to_have_attribute("data-indicators", "bb:20:2,rsi:14,sma:10", timeout=10_000)
    drawn = page.evaluate(
        """(() => { const c = Chart.getChart('chart-canvas');
                    const of = (label) => c.data.datasets.find((d) => d.label === label).data;
                    return { upper: of('BB 20, 2'), lower: of('BB 20, 2 lower'), rsi: of('RSI 14') }; })()"""
    )
    assert all(p["y"] is None or 0 <= p["y"] <= 100 for p in drawn["rsi"])
    assert any(p["y"] is not None for p in drawn["upper"])
    # The price axis makes room for the bands.
    low, high = page.evaluate("(() => { const y = Chart.getChart('chart-canvas').scales.y; return [y.min, y.max]; })()")
    bands = [p["y"] for p in drawn["upper"] + drawn["lower"] if p["y"] is not None]
    assert low <= min(bands) and max(bands) <= high
    panes = page.evaluate(
        "(() => { const c = Chart.getChart('chart-canvas'); const s = c.scales;"
        " return [s.y.bottom, s.rsi.top, s.rsi.bottom, c.chartArea.bottom]; })()"
    )
    assert panes[0] <= panes[1] + 1 and panes[2] == pytest.approx(panes[3], abs=2)  # RSI in its own pane below
    page.screenshot(path=str(ARTIFACTS / f"chart-indicators-{width}-{scheme}.png"))

    page.locator("#chart-log").click()
    expect(dialog).to_have_attribute("data-scale", "log", timeout=10_000)
    assert page.evaluate("Chart.getChart('chart-canvas').scales.y.type") == "logarithmic"
    expect(dialog).to_have_attribute("data-indicators", "bb:20:2,rsi:14,sma:10")  # kept across the reload

    # Remembered: a new page opens the chart with the same indicators and scale.
    page.reload()
    wait_for_prices(page)
    card(page, "BTC-USD").click()
    expect(dialog).to_have_attribute("data-indicators", "bb:20:2,rsi:14,sma:10", timeout=10_000)
    expect(dialog).to_have_attribute("data-scale", "log")
    dialog.get_by_role("button", name="Live", exact=True).click()
    expect(picker.locator("[data-indicator=sma] input[type=checkbox]")).to_be_disabled()  # Live: raw ticks
    context.close()
    assert errors == []


def pinch(page: Page, x: float, y: float, start_gap: float, end_gap: float, steps: int = 12) -> None:
    """Two fingers on (x, y), spreading horizontally from start_gap to end_gap px apart."""
    touch = page.context.new_cdp_session(page)

    def fingers(gap: float) -> list[dict[str, float]]:
        return [{"x": x - gap / 2, "y": y, "id": 0}, {"x": x + gap / 2, "y": y, "id": 1}]

    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(start_gap)})
    for step in range(1, steps + 1):
        gap = start_gap + (end_gap - start_gap) * step / steps
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": fingers(gap)})
        page.wait_for_timeout(16)
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    touch.detach()


def test_the_chart_fills_a_phone_screen_and_a_pinch_zooms_it(browser: Browser, stack: Stack, app):
    seed_day(app)
    context, page, errors = open_range(browser, stack, 390, has_touch=True, is_mobile=True)
    screen = page.viewport_size
    dialog = page.locator("#chart-modal").bounding_box()
    assert (dialog["x"], dialog["y"], dialog["width"], dialog["height"]) == pytest.approx(
        (0, 0, screen["width"], screen["height"]), abs=1
    )  # the whole screen
    canvas = page.locator("#chart-canvas").bounding_box()
    assert canvas["height"] >= 0.45 * screen["height"] and canvas["y"] + canvas["height"] <= screen["height"]
    page.screenshot(path=str(ARTIFACTS / "chart-phone-390.png"))
    before = x_scale(page)
    area = page.evaluate("Chart.getChart('chart-canvas').chartArea")
    x, y = canvas_point(page, (area["left"] + area["right"]) / 2, (area["top"] + area["bottom"]) / 2)
    pinch(page, x, y, 40, 200)
    expect(page.locator("#chart-reset-zoom")).to_be_visible()
    zoomed = x_scale(page)
    assert zoomed["max"] - zoomed["min"] < 0.6 * (before["max"] - before["min"])
    page.locator("#chart-reset-zoom").tap()
    assert x_scale(page) == pytest.approx(before)
    context.close()
    assert errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_alert_lines_sit_at_their_levels_and_a_click_starts_an_alert(browser: Browser, stack: Stack, app, width: int):
    # Around the simulator's BTC level: its live prices join the chart inside the seeded range, so
    # the last price sits well below the chart's top and a click above it has room.
    seed_day(app, base=95_000)
    context, page, errors = open_range(browser, stack, width)
    dialog = page.locator("#chart-modal")
    level = level_above_prices(page)
    made = post_alert(stack, {"symbol": "BTC-USD", "rule": "above", "threshold": level})
    expect(dialog).to_have_attribute("data-alert-lines", str(level), timeout=10_000)  # the socket told the page
    line = page.evaluate(
        """(id) => { const c = Chart.getChart('chart-canvas');
                    const line = window['chartjs-plugin-annotation'].getAnnotations(c).find((a) => a.options.id === id);
                    const at = c.scales.y.getPixelForValue(line.options.yMin);
                    return [line.y, line.y2, at, line.label.options.content]; }""",
        f"alert-{made['id']}",
    )
    assert line[0] == pytest.approx(line[2], abs=0.5) and line[1] == pytest.approx(line[2], abs=0.5)
    assert line[3].startswith("at or above ")
    page.screenshot(path=str(ARTIFACTS / f"chart-alert-line-{width}.png"))

    # A drag pans: no alert proposed. A click proposes one at the price under the pointer: halfway
    # between the last price and the alert's line, so above the price and off the line.
    x, y = point_above_last_price(page, level)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=6)
    page.mouse.up()
    # Chart.js handles a click at the next animation frame, the latest one of that frame only, and
    # the zoom plugin drops the click that ends a pan: a click in the same frame would be dropped
    # in its place (no person clicks within a frame of a drag; CI's slow frames did).
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    expect(page.locator("#chart-new-alert")).to_be_hidden()
    x, y = point_above_last_price(page, level)  # the pan may have moved the price axis
    canvas_y = y - page.locator("#chart-canvas").bounding_box()["y"]
    price_at, per_pixel = page.evaluate(
        "(y) => { const s = Chart.getChart('chart-canvas').scales.y; return [s.getValueForPixel(y), "
        "s.getValueForPixel(y) - s.getValueForPixel(y + 1)]; }",
        canvas_y,
    )
    page.mouse.click(x, y)
    bar = page.locator("#chart-new-alert")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("New alert: BTC-USD at or above ")
    threshold = page.locator("#alert-threshold").input_value()
    assert float(threshold.replace(",", "")) == pytest.approx(price_at, abs=per_pixel)  # to the pixel
    assert page.locator("#alert-rule").input_value() == "above"
    alerts = requests.get(f"{stack.base_url}/api/alerts?status=active", headers=stack.headers, timeout=10).json()
    assert len(alerts["alerts"]) == 1  # nothing saved until confirmed

    bar.get_by_role("button", name="Review and save").click()
    expect(dialog).not_to_be_visible()
    expect(page.locator("#alert-threshold")).to_be_focused()
    page.locator("#alert-form button[type=submit]").click()
    expect(page.locator("#active-alerts li")).to_have_count(2, timeout=10_000)
    card(page, "BTC-USD").click()
    expect(dialog).to_have_attribute("data-alert-lines", re.compile(r"^[\d.]+,[\d.]+$"), timeout=10_000)
    context.close()
    assert errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_draws_both_symbols_as_change_from_the_start(browser: Browser, stack: Stack, app, width: int):
    seed_day(app)
    seed_day(app, "ETH-USD", base=3_500)
    context, page, errors = open_range(browser, stack, width)
    dialog = page.locator("#chart-modal")
    picker = page.locator("#chart-indicators")
    picker.locator("summary").click()
    picker.locator("[data-indicator=rsi] input[type=checkbox]").check()
    expect(dialog).to_have_attribute("data-indicators", "rsi:14", timeout=10_000)
    choices = page.locator("#chart-compare option").all_inner_texts()
    assert choices == ["Compare with…", "ETH-USD", "DOGE-USD"]  # every other watched symbol
    page.select_option("#chart-compare", "ETH-USD")
    expect(dialog).to_have_attribute("data-compare", "ETH-USD", timeout=10_000)
    expect(page.locator("#chart-status")).to_contain_text("% change from the start, against ETH-USD")
    axes = page.evaluate(
        """(() => { const c = Chart.getChart('chart-canvas'); const y = c.scales.y;
                   const main = c.data.datasets[0].data.find((p) => p.y !== null);
                   const eth = c.data.datasets.find((d) => d.compared).data;
                   const [a, b] = [main.o ?? main.y, eth[0].price];
                   const far = eth.reduce((m, p) => (Math.abs(p.price / b - 1) > Math.abs(m.price / b - 1) ? p : m));
                   const drawn = c.getDatasetMeta(c.data.datasets.findIndex((d) => d.compared)).data[0].y;
                   return { start: [y.getPixelForValue(a), drawn],
                            far: [y.getPixelForValue(a * far.price / b), y.getPixelForValue(far.y)],
                            prices: eth.map((p) => p.price), labels: y.ticks.map((t) => t.label) }; })()"""
    )
    assert axes["start"][0] == pytest.approx(axes["start"][1], abs=0.5)  # both start at 0 %
    assert axes["far"][0] == pytest.approx(axes["far"][1], abs=0.5)  # the same % at the same height
    assert min(axes["prices"]) > 2_500 and max(axes["prices"]) < 5_000  # ETH keeps its own prices
    assert all(re.fullmatch(r"[+−]?\d+\.\d+%", label) for label in axes["labels"] if label)
    page.screenshot(path=str(ARTIFACTS / f"chart-compare-{width}.png"))
    page.select_option("#chart-compare", "")
    expect(dialog).to_have_attribute("data-compare", "", timeout=10_000)
    context.close()
    assert errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_dragging_an_alert_line_moves_that_alert_and_the_chart_does_not_pan(
    browser: Browser, stack: Stack, app, width: int
):
    seed_day(app)
    context, page, errors = open_range(browser, stack, width)
    dialog = page.locator("#chart-modal")
    level = level_above_prices(page)
    made = post_alert(stack, {"symbol": "BTC-USD", "rule": "above", "threshold": level, "note": "kept"})
    expect(dialog).to_have_attribute("data-alert-lines", str(level), timeout=10_000)
    before = x_scale(page)
    line_y = page.evaluate(f"Chart.getChart('chart-canvas').scales.y.getPixelForValue({level})")
    area = page.evaluate("Chart.getChart('chart-canvas').chartArea")
    x, y = canvas_point(page, (area["left"] + area["right"]) / 2, line_y + 2)  # within the line's grab band
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 60, steps=8)  # down 60 px (and sideways: still the line, not a pan)
    expect(dialog).to_have_attribute("data-dragging", str(made["id"]))
    target = page.evaluate(f"Chart.getChart('chart-canvas').scales.y.getValueForPixel({line_y + 62})")
    page.mouse.up()
    moved = page.locator("#chart-alert-moved")
    expect(moved).to_have_text(re.compile(r"^Alert moved: BTC-USD at or above [\d,]+\.\d\d\.$"))
    stored = requests.get(f"{stack.base_url}/api/alerts/{made['id']}", headers=stack.headers, timeout=10).json()
    per_pixel = page.evaluate(
        "(() => { const s = Chart.getChart('chart-canvas').scales.y; "
        "return s.getValueForPixel(0) - s.getValueForPixel(1); })()"
    )
    assert stored["alert"]["threshold"] == pytest.approx(target, abs=per_pixel + 0.01)  # where it was let go
    assert (stored["alert"]["id"], stored["alert"]["note"]) == (made["id"], "kept")  # the same alert, edited
    assert x_scale(page) == before  # the drag did not pan the chart
    expect(page.locator("#chart-new-alert")).to_be_hidden()  # nor propose a new alert
    expect(dialog).to_have_attribute("data-alert-lines", str(stored["alert"]["threshold"]))  # the line stays there
    edits = requests.get(f"{stack.base_url}/api/alerts/{made['id']}/events", headers=stack.headers, timeout=10)
    assert list(edits.json()["edits"][0]["changes"]) == ["threshold"]
    page.screenshot(path=str(ARTIFACTS / f"chart-alert-dragged-{width}.png"))
    context.close()
    assert errors == []


def test_an_alert_is_edited_in_place_from_the_list_and_every_tab_follows(browser: Browser, stack: Stack):
    context, page, errors = open_page(browser, stack.base_url, width=1440, height=900)
    other_context, other, _ = open_page(browser, stack.base_url, width=1024, height=768)
    made = post_alert(
        stack, {"symbol": "ETH-USD", "rule": "above", "threshold": 5000, "frequency": "every_time", "cooldown": "1h"}
    )
    item = page.locator(f'#active-alerts li[data-id="{made["id"]}"]')
    item.get_by_role("button", name=re.compile("^Edit alert")).click()
    expect(page.locator("#alert-editing")).to_contain_text("Editing ETH-USD at or above 5,000.00")
    expect(page.locator("#alert-symbol")).to_be_disabled()
    expect(page.locator("#alert-threshold")).to_be_focused()
    expect(page.locator("#alert-threshold")).to_have_value("5,000.00")
    expect(page.locator("#alert-cooldown")).to_have_value("1h")
    page.fill("#alert-threshold", "5,250")
    page.fill("#alert-note", "raised")
    page.locator("#alert-form button[type=submit]").click()
    expect(item.locator(".alert-text")).to_contain_text("at or above 5,250.00")
    expect(page.locator("#alert-editing")).to_be_hidden()
    expect(page.locator("#alert-form button[type=submit]")).to_have_text("Add alert")
    expect(item.get_by_role("button", name=re.compile("^Edit alert"))).to_be_focused()
    expect(page.locator("#active-alerts li")).to_have_count(1)  # the same alert, not a second one
    expect(other.locator(f'#active-alerts li[data-id="{made["id"]}"] .alert-text')).to_contain_text("5,250.00")
    stored = requests.get(f"{stack.base_url}/api/alerts/{made['id']}", headers=stack.headers, timeout=10).json()
    assert (stored["alert"]["threshold"], stored["alert"]["note"]) == (5250.0, "raised")
    assert stored["alert"]["cooldown"] == 3600  # kept: the form showed the alert's own
    other_context.close()
    context.close()
    assert errors == []


def test_a_late_live_answer_leaves_the_range_chosen_since_alone(browser: Browser, stack: Stack, app):
    """The chart opens on Live; 24H is chosen before Live's answer comes: that answer, late, must
    not change the 24H chart (it set the bucket to 0: "145 buckets of 0 s" at the next price)."""
    seed_day(app)
    context, page, errors = open_page(browser, stack.base_url, width=1440, height=900)
    page.evaluate("localStorage.clear()")
    wait_for_prices(page)
    held = []
    page.route(re.compile(r"/history/BTC-USD$"), lambda route: held.append(route))  # Live's request, unanswered
    card(page, "BTC-USD").click()
    dialog = page.locator("#chart-modal")
    wait_for(lambda: held, 10, "the Live chart's request")
    dialog.get_by_role("button", name="24H", exact=True).click()
    expect(dialog).to_have_attribute("data-source", "candles_1m", timeout=10_000)
    held[0].continue_()  # Live's answer, after the range's
    page.unroute(re.compile(r"/history/BTC-USD$"))
    last = dialog.get_attribute("data-last")
    expect(dialog).not_to_have_attribute("data-last", last or "", timeout=10_000)  # a live price came since
    status = page.locator("#chart-status")
    expect(status).to_have_text(re.compile(r"^\d+ buckets of [1-9]\d* min, the last one updating live"))
    context.close()
    assert errors == []
