"""The watchlist: the symbols table, edited at runtime from the page or the API.

SYMBOLS seeds it on the first start only (an empty table); after that the table is the truth
and the fetch task reads it on every run, so an add or a remove reaches the next fetch. A
removed symbol stays in the table, inactive, with its history and alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.market.backfill import progress
from app.market.sources import Listing
from app.market.sources.routes import is_crypto
from app.models import Symbol
from app.web.errors import CONFLICT, UNPROCESSABLE, ApiError

CRYPTO = "CRYPTOCURRENCY"  # quote type of what is_crypto says, for SQL
WATCHLIST_LOCK = 0x5354_5359  # pg_advisory_xact_lock key of watchlist edits ('STSY')


def symbol_json(row: Symbol, history: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "symbol": row.symbol,
        "name": row.name,
        "currency": row.currency,
        "exchange": row.exchange,
        "quote_type": row.quote_type,
        "calendar": row.calendar,
        "price_hint": row.price_hint,
        "position": row.position,
        "history": history,
    }


def decimals_of(symbol: Any) -> Any:
    """The decimals ``symbol`` (a column or value) is shown in, as the page shows it (null: by
    magnitude; see _describe)."""
    return select(Symbol.price_hint).where(Symbol.symbol == symbol).scalar_subquery()


def _active() -> list[Symbol]:
    return list(db.session.scalars(select(Symbol).where(Symbol.active).order_by(Symbol.position, Symbol.symbol)))


def watchlist() -> list[dict[str, Any]]:
    """The watched symbols in their order, with what the source says they are and how far the
    loading of their past has come."""
    loading = {job["symbol"]: job for job in progress()}
    return [symbol_json(row, loading.get(row.symbol)) for row in _active()]


def is_watched(symbol: str) -> bool:
    return bool(db.session.scalar(select(Symbol.active).where(Symbol.symbol == symbol)))


def seed(symbols: Sequence[str]) -> bool:
    """Fill an empty table with ``symbols`` in that order; False (and nothing changed) otherwise."""
    _lock()
    if db.session.scalar(select(func.count()).select_from(Symbol)):
        db.session.rollback()
        return False
    db.session.add_all(Symbol(symbol=s, active=True, position=i) for i, s in enumerate(symbols))
    db.session.commit()
    return True


def add(listing: Listing, max_symbols: int) -> dict[str, Any]:
    """Watch a symbol the source has vouched for, last in the order. A symbol removed before
    comes back with its history; two adds of one symbol at once make one row (the lock)."""
    _lock()
    row = db.session.get(Symbol, listing.symbol)
    if row is not None and row.active:
        db.session.rollback()
        raise already_watched(listing.symbol)
    active = _active()
    if len(active) >= max_symbols:
        db.session.rollback()
        raise ApiError(CONFLICT, f"at most {max_symbols} symbols (MAX_SYMBOLS): remove one first", "symbol")
    if row is None:
        row = Symbol(symbol=listing.symbol)
        db.session.add(row)
    row.active = True
    row.position = max((r.position for r in active), default=-1) + 1
    _describe(row, listing)
    db.session.commit()
    return symbol_json(row)


def already_watched(symbol: str) -> ApiError:
    return ApiError(409, f"{symbol} is on the watchlist already", "symbol")


def remove(symbol: str) -> dict[str, Any]:
    """Stop watching (and fetching) a symbol; its history and alerts stay."""
    _lock()
    row = db.session.get(Symbol, symbol)
    if row is None or not row.active:
        db.session.rollback()
        raise ApiError(404, f"{symbol} is not on the watchlist", "symbol")
    row.active = False
    db.session.commit()
    return symbol_json(row)


def reorder(order: Sequence[str]) -> list[dict[str, Any]]:
    """Put the watchlist in ``order``, which must name each watched symbol once."""
    _lock()
    rows = {row.symbol: row for row in _active()}
    if len(order) != len(set(order)) or set(order) != set(rows):
        db.session.rollback()
        missing, unknown = sorted(set(rows) - set(order)), sorted(set(order) - set(rows))
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not on the watchlist: {', '.join(unknown)}" if unknown else "",
                "a symbol is named twice" if len(order) != len(set(order)) else "",
            )
            if part
        )
        raise ApiError(UNPROCESSABLE, f"order must name each symbol of the watchlist once ({detail})", "order")
    for position, symbol in enumerate(order):
        rows[symbol].position = position
    db.session.commit()
    return watchlist()


def undescribed() -> list[str]:
    """Watched symbols the source has not described yet (seeded, or from before the watchlist)."""
    # calendars came later (0009), and the decimals a source quotes in (0011; crypto goes without)
    no_hint = and_(Symbol.price_hint.is_(None), Symbol.quote_type.is_distinct_from(CRYPTO))
    blank = or_(Symbol.currency.is_(None), Symbol.calendar.is_(None), no_hint)
    return list(db.session.scalars(select(Symbol.symbol).where(Symbol.active, blank)))


def describe(listing: Listing) -> None:
    row = db.session.get(Symbol, listing.symbol)
    if row is not None:
        _describe(row, listing)
        db.session.commit()


def _describe(row: Symbol, listing: Listing) -> None:
    """Store what the source said, cut to the columns (a source's long name is not ours to refuse)."""
    for column in ("name", "currency", "exchange", "quote_type", "calendar"):
        value = getattr(listing, column)
        setattr(row, column, value[: Symbol.__table__.c[column].type.length] if value else None)
    # The decimals it is shown in. Crypto goes by magnitude (BTC in cents, DOGE in millionths)
    # whatever the source says (Yahoo says 2 for DOGE-USD): the one place that rule is made.
    hint = None if is_crypto(listing.symbol, listing.quote_type) else listing.price_hint
    row.price_hint = hint if isinstance(hint, int) and 0 <= hint <= 10 else None  # NUMERIC(24, 10) holds 10


def _lock() -> None:
    db.session.execute(select(func.pg_advisory_xact_lock(WATCHLIST_LOCK)))  # to the commit
