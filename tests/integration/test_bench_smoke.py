"""The benchmarks still run: tiny sizes, no timing asserted (figures belong to `make bench`)."""

from bench.alerts import run_alerts
from bench.ingest import run_ingest
from bench.notify import run_notify


def test_notify_benchmark_delivers_every_alert_once(app, settings, server_env, tmp_path):
    result = run_notify(app, settings, server_env, count=25, logs=tmp_path)
    assert (result.alerts, result.received, result.duplicates) == (25, 25, 0)
    assert result.check_seconds > 0 and result.deliver_seconds > 0


def test_alerts_benchmark_runs(ctx):
    calls: list[int] = []

    def once(rounds, run):
        calls.append(rounds)
        run(0)
        return 0.001

    results = run_alerts(once, rounds=1, large=100)
    assert set(results) == {"spread over 500 symbols", "all on one symbol", "hot symbol (batch of one symbol)"}
    assert len(calls) == 6


def test_ingest_benchmark_stores_every_tick(app, server_env, tmp_path):
    result = run_ingest(app, server_env, tmp_path, count=300)
    assert result.ticks == 300 and result.seconds > 0
    assert any(name.startswith("bridge:") for name in result.max_rss_mb)
