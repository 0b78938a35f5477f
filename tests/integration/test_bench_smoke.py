"""The benchmarks still run: tiny sizes, no timing asserted (figures belong to `make bench`)."""

from bench.notify import run_notify


def test_notify_benchmark_delivers_every_alert_once(app, settings, server_env, tmp_path):
    result = run_notify(app, settings, server_env, count=25, logs=tmp_path)
    assert (result.alerts, result.received, result.duplicates) == (25, 25, 0)
    assert result.check_seconds > 0 and result.deliver_seconds > 0
