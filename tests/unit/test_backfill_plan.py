"""Which past a backfill asks for: every slice meets the next, and the 1-minute slice holds the
whole 7D range whatever the time of day (CI just after midnight found 290 of 336 buckets)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.market.backfill_plan import chunks, segments


@pytest.mark.parametrize("clock", ["00:01", "00:42", "12:00", "23:59"])
def test_the_minute_slice_covers_the_seven_days_before_until(clock: str):
    hour, minute = map(int, clock.split(":"))
    until = datetime(2026, 12, 2, hour, minute, tzinfo=UTC)
    edge = segments(until, 20)
    assert edge.minutes <= until - timedelta(days=7)
    assert edge.minutes.time() == datetime.min.time()  # slices meet on UTC midnights
    plan = chunks(until, 20)
    minutes = [c for c in plan if c.interval == "1m"]
    assert minutes[0].stop == until and minutes[-1].start == edge.minutes
    assert all(a.start == b.stop for a, b in zip(plan, plan[1:], strict=False))  # no gap, no overlap
    assert plan[-1].start == edge.days
