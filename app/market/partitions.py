"""Raw ticks are partitioned by UTC day (``ticks_pYYYYMMDD``), so retention drops a day whole.

Partitions are made ahead: `flask setup` and the hourly maintenance task keep today and the next
PARTITION_DAYS_AHEAD days ready. A batch whose day has none (a backfill, a late tick, a clock far
off) makes its own before inserting, so no tick is ever refused for want of a partition. Creation
is serialised by an advisory lock: two workers meeting at midnight make one table, not an error.
Dropping goes through DETACH ... CONCURRENTLY, which does not block inserts into other days.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text

from app.extensions import db

log = logging.getLogger(__name__)
PARTITION_DAYS_AHEAD = 2
_NAME = re.compile(r"^ticks_p(\d{8})$")
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('stockticker: ticks partitions'))"


def partition_name(day: date) -> str:
    return f"ticks_p{day:%Y%m%d}"


def is_partition(name: str) -> bool:
    """A table of ours made at run time, not by a migration (Alembic leaves these alone)."""
    return _NAME.match(name) is not None


def include_name(name: str | None, type_: str, parent_names: object) -> bool:  # noqa: ARG001 - Alembic's hook
    """For Alembic's autogenerate: the day partitions are made at run time, not by migrations."""
    return not (type_ == "table" and name is not None and is_partition(name))


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def existing_days() -> set[date]:
    rows = db.session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'ticks'::regclass"
        )
    )
    return {datetime.strptime(m.group(1), "%Y%m%d").date() for name in rows if (m := _NAME.match(name))}


def ensure_partitions(days: Iterable[date]) -> list[date]:
    """Make the partitions of ``days`` that do not exist yet; commits; returns the days made."""
    wanted = set(days)
    if not wanted or wanted <= existing_days():
        return []
    db.session.execute(text(_LOCK))
    made = sorted(wanted - existing_days())  # again under the lock: another process may have made some
    for day in made:
        # DDL takes no bind parameters; both bounds are made here from a date, never from input.
        start, end = day_start(day).isoformat(), day_start(day + timedelta(days=1)).isoformat()
        db.session.execute(
            text(f"CREATE TABLE {partition_name(day)} PARTITION OF ticks FOR VALUES FROM ('{start}') TO ('{end}')")
        )
    db.session.commit()
    if made:
        log.info("made tick partitions for %s", ", ".join(d.isoformat() for d in made))
    return made


def ensure_ahead(today: date | None = None) -> list[date]:
    today = today or datetime.now(UTC).date()
    return ensure_partitions(today + timedelta(days=n) for n in range(PARTITION_DAYS_AHEAD + 1))


def _day_tables() -> dict[date, str | None]:
    """Every ticks_pYYYYMMDD table: attached ('attached'), half-detached ('pending': a DETACH
    CONCURRENTLY that was interrupted), or left detached (None: a DROP that did not happen)."""
    rows = db.session.execute(
        text(
            "SELECT c.relname, CASE WHEN i.inhrelid IS NULL THEN NULL "
            "WHEN i.inhdetachpending THEN 'pending' ELSE 'attached' END "
            "FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'ticks'::regclass "
            "WHERE c.relkind = 'r' AND c.relname ~ '^ticks_p[0-9]{8}$'"
        )
    )
    return {datetime.strptime(name[len("ticks_p") :], "%Y%m%d").date(): state for name, state in rows}


def drop_partitions_before(cutoff: datetime) -> list[date]:
    """Drop every day partition that ends at or before ``cutoff``: nothing newer is touched. A
    drop interrupted earlier (half-detached, or detached and not dropped) is finished here."""
    gone = {d: state for d, state in _day_tables().items() if day_start(d + timedelta(days=1)) <= cutoff}
    db.session.commit()
    for day, state in sorted(gone.items()):
        name = partition_name(day)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # CONCURRENTLY: inserts into the other partitions go on while this one is detached; the
            # lock timeout keeps a long reader from making inserts queue behind the detach.
            connection.execute(text("SET lock_timeout = '5s'"))
            if state == "attached":
                connection.execute(text(f"ALTER TABLE ticks DETACH PARTITION {name} CONCURRENTLY"))
            elif state == "pending":
                connection.execute(text(f"ALTER TABLE ticks DETACH PARTITION {name} FINALIZE"))
            connection.execute(text(f"DROP TABLE {name}"))
    if gone:
        log.info("dropped raw ticks of %s (past retention)", ", ".join(d.isoformat() for d in sorted(gone)))
    return sorted(gone)
