"""Where the bridge starts a partition and how far recorded offset ranges reach (no servers)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.pipeline.progress import Span, contiguous, spans_of
from tasks.bridge import start_offset


def test_ranges_reach_only_as_far_as_they_leave_no_gap():
    assert contiguous(10, []) == 10
    assert contiguous(10, [(10, 15), (15, 20)]) == 20
    assert contiguous(10, [(10, 15), (16, 20)]) == 15  # offset 15 is missing: stop before it
    assert contiguous(10, [(0, 12), (11, 14), (12, 13)]) == 14  # overlaps (a replay's other cut) count
    assert contiguous(10, [(11, 20)]) == 10


@given(st.integers(0, 50), st.lists(st.tuples(st.integers(0, 60), st.integers(1, 10)), max_size=12))
def test_the_reach_is_the_first_offset_no_range_covers(base, drawn):
    ranges = sorted((first, first + length) for first, length in drawn)
    covered = {o for first, next_ in ranges for o in range(first, next_)}
    expected = base
    while expected in covered:
        expected += 1
    assert contiguous(base, ranges) == expected


def test_spans_travel_as_plain_lists():
    span = Span("ticks", "0b6c1a8e-1d0c-4f5e-9a51-4d2c7f0e9b11", 3, 100, 250)
    assert spans_of([span.to_message()]) == [span]
    assert spans_of(None) == []  # a task message from before spans were sent


@pytest.mark.parametrize(
    ("recorded", "committed", "beginning", "start", "why"),
    [
        (None, None, 0, 0, None),  # a new group on a new database: the whole log
        (None, 25, 0, 25, None),  # an install from before the record: Kafka's commit
        (30, 25, 0, 30, None),  # PostgreSQL holds more than Kafka was told (a bridge killed before committing)
        (20, 25, 0, 20, None),  # a database restored from before: replay what it lacks
        (30, None, 32, 32, "offsets 30 to 31 were deleted by the broker before they were stored"),
        (None, 10, 12, 12, "offsets 10 to 11 were deleted by the broker before they were stored"),
    ],
)
def test_a_partition_starts_where_postgresql_holds_it(recorded, committed, beginning, start, why):
    assert start_offset(recorded, committed, beginning) == (start, why)
