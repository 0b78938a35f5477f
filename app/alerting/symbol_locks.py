"""Row locks on ``symbols``, whose alert lookups and gate bands the alert check trusts.

The lookups are set by the database (``set_symbol_lookups``, run by a trigger on every statement
that writes alerts, migration 0025): it waits for the rows' locks, in name order. What a check
may leave undone (the indicator bands, the kept past ranges) takes only the rows no other
transaction holds (that transaction clears or sets them itself), so a check never waits for a
row while holding the ones its own apply locked.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text

from app.extensions import db
from app.sql_arrays import literal

# NO KEY UPDATE, as set_symbol_lookups takes: an alert's or a candle's foreign key takes KEY SHARE,
# which it lets be.
_SKIP = text(
    "SELECT symbol FROM symbols WHERE symbol = ANY(CAST(:symbols AS text[])) ORDER BY symbol"
    " FOR NO KEY UPDATE SKIP LOCKED"
)


def lock_free(symbols: Iterable[str]) -> set[str]:
    """The symbols whose rows this transaction now holds, of ``symbols``."""
    names = sorted(symbols)
    return set(db.session.scalars(_SKIP, {"symbols": literal(names)})) if names else set()
