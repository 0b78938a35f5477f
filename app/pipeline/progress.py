"""What PostgreSQL holds of the Kafka log: the record the bridge commits and starts from.

Each task message carries the offset ranges ("spans") of the Kafka records its batch came from.
The persist and alert-check tasks record their spans in the same transaction as their work, so a
span is recorded exactly when its work is committed. The bridge folds, per partition, what BOTH
stages recorded without a gap from the partition's frontier into ``consumed_offsets``, commits
that offset to Kafka, and dispatches again whatever stays unrecorded past a deadline. A task the
Celery broker loses therefore costs a replay (inserts and alert fires are idempotent), never a tick.

Everything is kept per topic id (the broker's UUID of the topic, "" where it has none): a topic
made again under the same name (an in-memory broker's restart) restarts its offsets at 0 and must
not inherit what was recorded of the old one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import text

from app.extensions import db

STAGES = ("persist", "alerts")

_RECORD = text(
    """
    INSERT INTO consumed_ranges (stage, topic, topic_id, partition, first_offset, next_offset, recorded_at)
    SELECT CAST(:stage AS text), *, statement_timestamp()
    FROM unnest(CAST(:topics AS text[]), CAST(:topic_ids AS text[]), CAST(:partitions AS int[]),
                CAST(:firsts AS bigint[]), CAST(:nexts AS bigint[]))
    ORDER BY 2, 3, 4, 5
    ON CONFLICT (stage, topic, topic_id, partition, first_offset)
    DO UPDATE SET next_offset = greatest(consumed_ranges.next_offset, excluded.next_offset),
                  recorded_at = excluded.recorded_at
    """
)
_HELD = text(
    """
    SELECT partition, next_offset FROM consumed_offsets
    WHERE topic = :topic AND topic_id = :topic_id AND partition = ANY(CAST(:partitions AS int[]))
    """
)
_RANGES = text(
    """
    SELECT stage, partition, first_offset, next_offset FROM consumed_ranges
    WHERE topic = :topic AND topic_id = :topic_id AND partition = ANY(CAST(:partitions AS int[]))
    ORDER BY partition, stage, first_offset
    """
)
_ADVANCE = text(
    """
    INSERT INTO consumed_offsets (topic, topic_id, partition, next_offset, updated_at)
    SELECT CAST(:topic AS text), CAST(:topic_id AS text), *, statement_timestamp()
    FROM unnest(CAST(:partitions AS int[]), CAST(:offsets AS bigint[]))
    ORDER BY 3
    ON CONFLICT (topic, topic_id, partition) DO UPDATE SET
        next_offset = greatest(consumed_offsets.next_offset, excluded.next_offset), updated_at = excluded.updated_at
    """
)
_PRUNE = text(
    """
    DELETE FROM consumed_ranges r
    USING unnest(CAST(:partitions AS int[]), CAST(:offsets AS bigint[])) AS f(partition, next_offset)
    WHERE r.topic = :topic AND r.topic_id = :topic_id AND r.partition = f.partition
      AND r.next_offset <= f.next_offset
    """
)


@dataclass(frozen=True, order=True)
class Span:
    """Offsets [first, next) of one partition of one topic: the records one batch came from."""

    topic: str
    topic_id: str
    partition: int
    first: int
    next: int

    def to_message(self) -> list[Any]:
        return [self.topic, self.topic_id, self.partition, self.first, self.next]

    @classmethod
    def from_message(cls, data: Sequence[Any]) -> Span:
        topic, topic_id, partition, first, next_ = data
        return cls(str(topic), str(topic_id), int(partition), int(first), int(next_))


def spans_of(messages: Iterable[Sequence[Any]] | None) -> list[Span]:
    """The spans a task message carries (none in a message from before they were sent)."""
    return [Span.from_message(m) for m in messages or ()]


def record(stage: str, spans: Sequence[Span], durable: bool = False) -> None:
    """Record, in the caller's transaction, that ``stage`` has done ``spans``; the caller commits.

    Unless ``durable``, that commit does not wait for the disk (synchronous_commit off): work that
    Kafka can replay may be lost in a PostgreSQL crash together with its record, and the bridge then
    dispatches the range again. Nothing outside PostgreSQL relies on it meanwhile: the bridge's own
    write of the frontier is durable and flushes every commit before it. ``durable`` is for work
    whose effects leave right after the commit (an alert fire's notices and deliveries).
    """
    if not spans:
        return
    if not durable:
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
    spans = sorted(spans)  # one lock order for every writer
    db.session.execute(
        _RECORD,
        {
            "stage": stage,
            "topics": [s.topic for s in spans],
            "topic_ids": [s.topic_id for s in spans],
            "partitions": [s.partition for s in spans],
            "firsts": [s.first for s in spans],
            "nexts": [s.next for s in spans],
        },
    )


def contiguous(base: int, ranges: Iterable[tuple[int, int]]) -> int:
    """How far [first, next) ranges reach from ``base`` without a gap (ranges sorted by first)."""
    reach = base
    for first, next_ in ranges:
        if first > reach:
            break
        reach = max(reach, next_)
    return reach


class Ledger:
    """The bridge's reads and writes of what PostgreSQL holds of one topic, each in an app context
    and a short transaction of its own (the bridge lives for long)."""

    def __init__(self, app: Flask, topic: str) -> None:
        self.app = app
        self.topic = topic

    def held(self, topic_id: str, partitions: Sequence[int]) -> dict[int, int]:
        """The stored frontier of each of ``partitions`` that has one."""
        with self.app.app_context():
            rows = db.session.execute(_HELD, self._params(topic_id, partitions)).all()
            db.session.rollback()
        return {r.partition: r.next_offset for r in rows}

    def frontiers(self, topic_id: str, bases: Mapping[int, int]) -> dict[int, int]:
        """For each partition, the offset before which every stage recorded every record, reading
        the recorded ranges from ``bases`` on (the partitions' known frontiers)."""
        ranges: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
        with self.app.app_context():
            for row in db.session.execute(_RANGES, self._params(topic_id, list(bases))):
                ranges[row.partition, row.stage].append((row.first_offset, row.next_offset))
            db.session.rollback()
        return {p: min(contiguous(base, ranges[p, stage]) for stage in STAGES) for p, base in bases.items()}

    def advance(self, topic_id: str, offsets: Mapping[int, int]) -> None:
        """Store ``offsets`` as the partitions' frontiers (never moving one back) and drop the
        recorded ranges they cover, in one transaction."""
        if not offsets:
            return
        params = self._params(topic_id, list(offsets)) | {"offsets": list(offsets.values())}
        with self.app.app_context():
            db.session.execute(_ADVANCE, params)
            db.session.execute(_PRUNE, params)
            db.session.commit()

    def forget_other_ids(self, topic_id: str) -> int:
        """Drop what is recorded of earlier topics of this name (made again since); how many rows."""
        params = {"topic": self.topic, "topic_id": topic_id}
        dropped = 0
        with self.app.app_context():
            for table in ("consumed_ranges", "consumed_offsets"):
                sql = f"DELETE FROM {table} WHERE topic = :topic AND topic_id <> :topic_id"  # noqa: S608 - our tables
                dropped += db.session.execute(text(sql), params).rowcount
            db.session.commit()
        return dropped

    def _params(self, topic_id: str, partitions: Sequence[int]) -> dict[str, Any]:
        return {"topic": self.topic, "topic_id": topic_id, "partitions": list(partitions)}
