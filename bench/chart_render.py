"""Chart render benchmark: the page's first draw of a 1Y chart with three indicators, in Chromium.

One watched symbol's past is loaded as the backfill process loads it (simulated: 1 m for a week,
1 h for two years, 1 d before), then the web process alone serves the page. Chromium (Debian's,
through Playwright) opens the chart of that symbol at 1Y with SMA 20, EMA 50 and Bollinger 20/2
chosen; each open is timed by the page's own ``chart-drawn`` measure: from the chart's load
(the click) to the chart drawn with its indicators, the history request included. Opened
``opens`` times, closed in between; the first open is reported apart (cold caches).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from app.extensions import db
from app.market import backfill
from devstack.processes import running_web

SYMBOL = "BTC-USD"
INDICATORS = {
    "sma": {"on": True, "period": "20"},
    "ema": {"on": True, "period": "50"},
    "bb": {"on": True, "period": "20", "width": "2"},
    "rsi": {"on": False, "period": "14"},
}


@dataclass
class RenderResult:
    points: int = 0
    indicators: str = ""
    first_ms: float = 0.0
    samples_ms: list[float] = field(default_factory=list)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else 0.0


def _load_past(env: dict[str, str]) -> None:
    """The watchlist's simulated past, through the backfill's own task, in this process."""
    from app import create_app
    from app.market.sources import chosen
    from config.settings import load_settings
    from tasks.backfill import backfill_step

    app = create_app(load_settings(env | {"PRICE_SOURCE": "simulated", "LOG_LEVEL": "WARNING"}))
    kept, chosen._source = chosen._source, None  # the process's source: this app's simulator, then back
    try:
        with app.app_context():
            db.session.execute(text("TRUNCATE backfills, backfill_chunks"))
            db.session.commit()
            for _ in range(40):  # a step a chunk at most; every symbol of the watchlist
                backfill_step.run()
                jobs = backfill.progress()
                if jobs and all(job["state"] == "done" for job in jobs):
                    return
    finally:
        chosen._source = kept
    raise RuntimeError("the simulated backfill did not finish in 40 steps")


def run_chart_render(env: dict[str, str], logs: Path, opens: int = 20) -> RenderResult:
    from playwright.sync_api import sync_playwright

    from tests.integration.browser import CHROMIUM, CHROMIUM_FLAGS

    if CHROMIUM is None:
        raise SystemExit("the chart benchmark needs Chromium: apt-get install chromium")
    _load_past(env)
    result = RenderResult()
    with running_web(env, logs, LOG_LEVEL="WARNING") as web, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, base_url=web.base_url)
        page.add_init_script(
            f"localStorage.setItem('chart-range', '1y');"
            f"localStorage.setItem('chart-indicators', {json.dumps(json.dumps(INDICATORS))});"
        )
        page.goto("/")
        opener = page.locator(f'.card[data-symbol="{SYMBOL}"] .card-open')
        dialog = page.locator("#chart-modal")
        for n in range(opens + 1):
            page.evaluate("performance.clearMeasures('chart-drawn')")
            opener.click()
            page.wait_for_function("() => performance.getEntriesByName('chart-drawn').length > 0", timeout=30_000)
            took = page.evaluate("performance.getEntriesByName('chart-drawn')[0].duration")
            if n == 0:
                result.first_ms = took
            else:
                result.samples_ms.append(took)
            result.points = int(dialog.get_attribute("data-points") or 0)
            result.indicators = dialog.get_attribute("data-indicators") or ""
            page.keyboard.press("Escape")
            page.wait_for_function("() => !document.getElementById('chart-modal').open")
        browser.close()
    return result


def summary(result: RenderResult) -> str:
    return (
        f"chart render: 1Y of {SYMBOL} ({result.points} buckets, indicators {result.indicators}): first open "
        f"{result.first_ms:.0f} ms, then p50 {result.p50_ms:.0f} ms over {len(result.samples_ms)} opens "
        f"(min {min(result.samples_ms, default=0):.0f}, max {max(result.samples_ms, default=0):.0f})"
    )
