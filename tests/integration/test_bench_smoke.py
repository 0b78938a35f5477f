"""The benchmarks still run: tiny sizes, no timing asserted (figures belong to `make bench`)."""

import pytest
from sqlalchemy import text

from app.extensions import db
from bench.alerts import NEW_CANDLE, run_alerts
from bench.backfill import run_backfill
from bench.chart_render import run_chart_render
from bench.history import RANGES, SYMBOLS, run_history
from bench.ingest import run_ingest
from bench.notify import run_notify
from bench.portfolio import run_portfolio
from devstack.processes import running_web


def test_notify_benchmark_delivers_every_alert_once(app, settings, server_env, tmp_path):
    result = run_notify(app, settings, server_env, count=25, logs=tmp_path)
    assert (result.alerts, result.received, result.duplicates) == (25, 25, 0)
    assert result.check_seconds > 0 and result.deliver_seconds > 0


def test_alerts_benchmark_runs(ctx):
    calls: list[int] = []

    def once(rounds, run, setup=None):
        calls.append(rounds)
        if setup is not None:
            setup()
        run(0)
        return 0.001

    results = run_alerts(once, rounds=1, large=100)
    shapes = ("spread over 500 symbols", "all on one symbol", "hot symbol (batch of one symbol)")
    kinds = ("above/below", "change", "indicator", "mixed, 20 % change", "mixed, every kind")
    # and a minute's first settled batch, apart, where indicator rules are spread over the symbols
    new_candle = {("indicator", NEW_CANDLE), ("mixed, every kind", NEW_CANDLE)}
    assert set(results) == {(kind, shape) for kind in kinds for shape in shapes} | new_candle
    assert len(calls) == 34  # 15 kinds and shapes at 10 and 100 alerts, and the two new-candle pairs


def test_ingest_benchmark_stores_every_tick(app, server_env, tmp_path):
    result = run_ingest(app, server_env, tmp_path, count=300)
    assert result.ticks == 300 and result.seconds > 0
    assert any(name.startswith("bridge:") for name in result.max_rss_mb)


def test_history_benchmark_loads_rows_times_answers_and_prunes(app, server_env, tmp_path):
    with running_web(server_env, tmp_path, LOG_LEVEL="WARNING") as web:
        result = run_history(
            app, web.base_url, raw_per_symbol=150, candle_symbols=2, requests=3, symbols=SYMBOLS[:20], days=3
        )
    assert result.rows == {
        "ticks": 20 * 150 + 20 * 10_000,
        "candles_1m": 2 * 3 * 1440,
        "candles_1h": 20 * 3 * 24,
        "candles_1d": 20 * 3,
    }
    assert 0 < result.last_points_p50_ms <= result.last_points_p99_ms
    assert set(result.p50_ms) == set(RANGES) and result.sources["1h"] == "ticks"
    assert result.points["24h"] > 100 and result.sources["24h"] == "candles_1m"
    assert result.pruned_rows == 20 * 10_000 and result.prune_seconds > 0
    assert result.insert_p99_during_ms > 0  # batches went on being stored while the day was dropped
    with app.app_context():
        left = db.session.scalar(text("SELECT count(*) FROM ticks WHERE symbol = 'H007-USD'"))
    assert left >= 150  # the recent ticks stay, with the ones stored during the prune


def test_portfolio_benchmark_values_20_positions_over_each_range(app, server_env, tmp_path):
    with running_web(server_env, tmp_path, LOG_LEVEL="WARNING") as web:
        result = run_portfolio(app, web.base_url, requests=3)
    assert result.transactions == 200
    assert result.points["1y"] >= 365 and result.points["30d"] > 300  # daily and hourly buckets
    assert 0 < result.p50_ms["1y"] <= result.p99_ms["1y"]


def test_backfill_benchmark_loads_every_symbol_and_times_the_live_path_and_the_ranges(app, server_env, tmp_path):
    result = run_backfill(
        app, server_env | {"BACKFILL_YEARS": "1"}, tmp_path, ["BTC-USD", "ETH-USD"], clients=3, window=3, requests=2
    )
    assert result.rows > 2 * (6 * 1440 + 720 * 24) and result.rows_per_second > 0 and result.peak_rss_mb > 0
    assert result.rows_by_table["candles_1m"] >= 2 * 6 * 1440
    assert set(result.delivery_p50_ms) == set(result.persist_p99_ms) == {"without", "during"}
    assert set(result.range_p50_ms) == set(RANGES) and result.range_sources["1y"] == "candles_1d"
    assert result.range_points["all"] > 100  # a year and more, in buckets of days


@pytest.mark.browser
def test_chart_benchmark_times_each_open_of_a_1y_chart_with_its_indicators(app, server_env, tmp_path):
    result = run_chart_render(server_env | {"BACKFILL_YEARS": "2"}, tmp_path, opens=2)
    assert sorted(result.indicators.split(",")) == ["bb:20:2", "ema:50", "sma:20"]  # asked for, drawn
    assert result.points >= 360  # a year of daily buckets
    assert result.first_ms > 0 and len(result.samples_ms) == 2 and all(ms > 0 for ms in result.samples_ms)
