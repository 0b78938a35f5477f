"""What the fetch asks for besides the watchlist, so that every position is valued live: the symbols
held (also after they leave every list) and the FX symbols that convert their currencies to
BASE_CURRENCY (EURUSD=X), made known the first time they are needed."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import Symbol
from app.portfolio.valuation import needed_fx_symbols

_HELD = text(
    """
    SELECT t.symbol, s.currency FROM transactions t JOIN symbols s ON s.symbol = t.symbol
    GROUP BY t.symbol, s.currency
    HAVING sum(CASE t.side WHEN 'buy' THEN t.quantity ELSE -t.quantity END) > 0
    """
)


def also_fetched(base: str) -> list[str]:
    """Held symbols and the FX symbols their currencies need, in name order (watched ones too: the
    fetch asks each symbol once)."""
    held = db.session.execute(_HELD).all()
    fx = needed_fx_symbols([row.currency for row in held], base)
    if fx:
        known = set(db.session.scalars(select(Symbol.symbol).where(Symbol.symbol.in_(fx))))
        if missing := [s for s in fx if s not in known]:
            # Not on any list (no card appears), only fetched; described like any other symbol.
            made = insert(Symbol).values([{"symbol": s, "active": False} for s in missing])
            db.session.execute(made.on_conflict_do_nothing(index_elements=[Symbol.symbol]))
            db.session.commit()
    return sorted({row.symbol for row in held} | set(fx))
