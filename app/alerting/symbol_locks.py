"""Locks on ``symbols`` rows, whose alert lookups and gate bands the alert check trusts.

NO KEY UPDATE: an alert's or a candle's foreign key takes KEY SHARE, which it lets be. ``lock``
waits, in name order (two checks that changed the same symbols queue, never deadlock): for what
must be exact (``set_lookups``). ``lock_free`` skips the rows another transaction holds: for what
a check may leave undone (bands, kept ranges: that transaction clears or sets them itself), and
so never waits while holding the rows its ``set_lookups`` locked.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text

from app.extensions import db
from app.sql_arrays import literal

_LOCK = "SELECT symbol FROM symbols WHERE symbol = ANY(CAST(:symbols AS text[])) ORDER BY symbol FOR NO KEY UPDATE"
_WAIT = text(_LOCK)
_SKIP = text(_LOCK + " SKIP LOCKED")


def lock(symbols: Iterable[str]) -> None:
    db.session.execute(_WAIT, {"symbols": literal(sorted(symbols))})


def lock_free(symbols: Iterable[str]) -> set[str]:
    """The symbols whose rows this transaction now holds, of ``symbols``."""
    names = sorted(symbols)
    return set(db.session.scalars(_SKIP, {"symbols": literal(names)})) if names else set()
