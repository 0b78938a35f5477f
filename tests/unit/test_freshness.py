from datetime import UTC, datetime, timedelta

from app.pipeline.freshness import first_late, stage_report

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(seconds_ago: float) -> float:
    return (NOW - timedelta(seconds=seconds_ago)).timestamp()


def test_each_stage_gets_an_iso_time_an_age_and_a_verdict():
    status = {
        "fetch": {"at": at(1), "ticks": 3, "last_error": None},
        "bridge": {"at": at(2.5), "batch": 3},
        "persist": {"at": at(7), "stored": 3},
        "alerts": {"at": at(1), "last_error": "boom"},
        "notify": {"at": at(4), "queued_by_sweep": 0},
    }
    report = stage_report(status, NOW, late_after=6)
    assert report["fetch"] == {"ticks": 3, "last_error": None, "at": "2026-11-25T11:59:59+00:00",
                               "age_seconds": 1.0, "verdict": "ok"}  # fmt: skip
    assert {k: v["verdict"] for k, v in report.items()} == {
        "fetch": "ok", "bridge": "ok", "persist": "late", "alerts": "failing", "notify": "ok",
    }  # fmt: skip
    assert first_late(report) == "persist"


def test_a_stage_that_never_ran_is_late():
    report = stage_report({}, NOW, late_after=6)
    assert report["fetch"] == {"at": None, "age_seconds": None, "verdict": "late"}
    assert first_late(report) == "fetch"
    assert (
        first_late(stage_report({s: {"at": at(0)} for s in ("fetch", "bridge", "persist", "alerts")}, NOW, 6)) is None
    )


def test_the_hourly_maintenance_is_late_only_after_missing_three_runs():
    report = stage_report({"maintenance": {"at": at(3 * 3600 - 1)}, "notify": {"at": at(3 * 3600 - 1)}}, NOW, 6)
    assert (report["maintenance"]["verdict"], report["notify"]["verdict"]) == ("ok", "late")
    assert stage_report({"maintenance": {"at": at(3 * 3600 + 1)}}, NOW, 6)["maintenance"]["verdict"] == "late"
