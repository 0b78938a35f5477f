"""The watchlists: named lists of symbols (tabs on the page), edited at runtime from the page or
the API.

A symbol is watched (``symbols.active``: fetched, priced, its alerts checked) while it is on at
least one list; ``symbols.position`` is its place in the union of the lists, in the tabs' order
(the order of /api/symbols, the fetch and the alert form). Both follow from the lists after every
edit (``_settle``), so the lists are the one truth. SYMBOLS seeds the first list on the first start
only. A symbol taken off its last list stays in the table, inactive, with its history and alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.market.backfill import progress
from app.market.sources import Listing
from app.market.sources.routes import is_crypto
from app.models import Symbol, Watchlist, WatchlistEntry
from app.web.errors import CONFLICT, UNPROCESSABLE, ApiError

CRYPTO = "CRYPTOCURRENCY"  # quote type of what is_crypto says, for SQL
WATCHLIST_LOCK = 0x5354_5359  # pg_advisory_xact_lock key of watchlist edits ('STSY')
DEFAULT_NAME = "Watchlist"  # the first list's name on a new install
MAX_LISTS = 20
MAX_NAME = 40  # watchlists.name


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
    """The watched symbols (every list's) in the lists' order, with what the source says they are
    and how far the loading of their past has come."""
    loading = {job["symbol"]: job for job in progress()}
    return [symbol_json(row, loading.get(row.symbol)) for row in _active()]


def lists() -> list[dict[str, Any]]:
    """Each list in the tabs' order: its id, name and symbols in its own order."""
    rows = db.session.execute(
        select(Watchlist.id, Watchlist.name, WatchlistEntry.symbol)
        .outerjoin(WatchlistEntry, WatchlistEntry.watchlist_id == Watchlist.id)
        .order_by(Watchlist.position, Watchlist.id, WatchlistEntry.position, WatchlistEntry.symbol)
    )
    answer: dict[int, dict[str, Any]] = {}
    for list_id, name, symbol in rows:
        one = answer.setdefault(list_id, {"id": list_id, "name": name, "symbols": []})
        if symbol is not None:
            one["symbols"].append(symbol)
    return list(answer.values())


def list_json(list_id: int) -> dict[str, Any]:
    return next(one for one in lists() if one["id"] == list_id)


def is_watched(symbol: str) -> bool:
    return bool(db.session.scalar(select(Symbol.active).where(Symbol.symbol == symbol)))


def is_on(symbol: str, list_id: int) -> bool:
    return db.session.get(WatchlistEntry, (list_id, symbol)) is not None


def chosen(list_id: int | None) -> Watchlist:
    """The list ``list_id`` names (404 if none does), or the first one (the tabs' first: the default)."""
    if list_id is None:
        first = db.session.scalar(select(Watchlist).order_by(Watchlist.position, Watchlist.id).limit(1))
        return first if first is not None else _new_list(DEFAULT_NAME)
    found = db.session.get(Watchlist, list_id)
    if found is None:
        raise ApiError(404, f"there is no watchlist {list_id}", "watchlist")
    return found


def seed(symbols: Sequence[str]) -> bool:
    """Fill an empty table with ``symbols`` in that order, on the first list; False (and nothing
    changed) otherwise."""
    _lock()
    if db.session.scalar(select(func.count()).select_from(Symbol)):
        db.session.rollback()
        return False
    db.session.add_all(Symbol(symbol=s, active=True, position=i) for i, s in enumerate(symbols))
    db.session.flush()
    first = chosen(None)
    db.session.add_all(WatchlistEntry(watchlist_id=first.id, symbol=s, position=i) for i, s in enumerate(symbols))
    _settle()
    db.session.commit()
    return True


def add(symbol: str, list_id: int | None, max_symbols: int, listing: Listing | None = None) -> dict[str, Any]:
    """Put a symbol on a list (the first if none is named), last in its order. A symbol not watched
    yet needs ``listing``, what the source vouched for; one removed before comes back with its
    history; two adds of one symbol at once make one row (the lock)."""
    _lock()
    target = chosen(list_id)
    if is_on(symbol, target.id):
        db.session.rollback()
        raise already_on(symbol, target.name)
    row = db.session.get(Symbol, symbol)
    if row is None or not row.active:
        if listing is None:  # watched when checked, removed since: the caller checks with the source
            db.session.rollback()
            raise ApiError(CONFLICT, f"{symbol} stopped being watched meanwhile: add it again", "symbol")
        if len(_active()) >= max_symbols:
            db.session.rollback()
            raise ApiError(CONFLICT, f"at most {max_symbols} symbols (MAX_SYMBOLS): remove one first", "symbol")
        if row is None:
            row = Symbol(symbol=symbol, position=0)
            db.session.add(row)
        row.active = True
        _describe(row, listing)
        db.session.flush()
    db.session.add(WatchlistEntry(watchlist_id=target.id, symbol=symbol, position=_next_position(target.id)))
    _settle()
    db.session.commit()
    return symbol_json(row)


def already_on(symbol: str, name: str) -> ApiError:
    return ApiError(409, f"{symbol} is on {name} already", "symbol")


def remove(symbol: str, list_id: int | None) -> dict[str, Any]:
    """Take a symbol off one list, or off every list (``list_id`` None: stop watching it). Off its
    last list it is no longer fetched; its history and alerts stay."""
    _lock()
    row = db.session.get(Symbol, symbol)
    if list_id is None:
        if row is None or not row.active:
            db.session.rollback()
            raise ApiError(404, f"{symbol} is not on the watchlist", "symbol")
        db.session.execute(delete(WatchlistEntry).where(WatchlistEntry.symbol == symbol))
    else:
        target = chosen(list_id)
        if not is_on(symbol, target.id):
            db.session.rollback()
            raise ApiError(404, f"{symbol} is not on {target.name}", "symbol")
        db.session.execute(
            delete(WatchlistEntry).where(WatchlistEntry.symbol == symbol, WatchlistEntry.watchlist_id == target.id)
        )
    _settle()
    db.session.commit()
    return symbol_json(row)


def reorder(order: Sequence[str], list_id: int | None) -> None:
    """Put a list (the first if none is named) in ``order``, which must name each of its symbols once."""
    _lock()
    target = chosen(list_id)
    entries = {
        e.symbol: e for e in db.session.scalars(select(WatchlistEntry).where(WatchlistEntry.watchlist_id == target.id))
    }
    if len(order) != len(set(order)) or set(order) != set(entries):
        db.session.rollback()
        missing, unknown = sorted(set(entries) - set(order)), sorted(set(order) - set(entries))
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not on {target.name}: {', '.join(unknown)}" if unknown else "",
                "a symbol is named twice" if len(order) != len(set(order)) else "",
            )
            if part
        )
        raise ApiError(UNPROCESSABLE, f"order must name each symbol of {target.name} once ({detail})", "order")
    for position, symbol in enumerate(order):
        entries[symbol].position = position
    _settle()
    db.session.commit()


def create_list(name: str) -> dict[str, Any]:
    """A new, empty list, last among the tabs."""
    _lock()
    if db.session.scalar(select(func.count()).select_from(Watchlist)) >= MAX_LISTS:
        db.session.rollback()
        raise ApiError(CONFLICT, f"at most {MAX_LISTS} watchlists: delete one first", "name")
    _refuse_taken(name)
    made = _new_list(name)
    db.session.commit()
    return list_json(made.id)


def rename_list(list_id: int, name: str) -> None:
    _lock()
    target = chosen(list_id)
    _refuse_taken(name, target.id)  # its own name in another case is no clash
    target.name = name
    db.session.commit()


def delete_list(list_id: int) -> dict[str, Any]:
    """Delete a list (never the last one); its symbols on no other list stop being watched."""
    _lock()
    target = chosen(list_id)
    if db.session.scalar(select(func.count()).select_from(Watchlist)) == 1:
        db.session.rollback()
        raise ApiError(CONFLICT, f"{target.name} is the only list: make another before deleting it", "watchlist")
    gone = list_json(target.id)
    db.session.delete(target)  # its entries with it (ON DELETE CASCADE)
    db.session.flush()
    _settle()
    off = select(Symbol.symbol).where(Symbol.symbol.in_(gone["symbols"]), ~Symbol.active)
    unwatched = sorted(db.session.scalars(off))
    db.session.commit()
    return {"watchlist": gone, "unwatched": unwatched}


def sync_symbols(symbols: Sequence[str]) -> None:
    """Make exactly ``symbols`` watched: the first list holds them in that order, and no list holds
    any other (those stay in the table, with their history, inactive). For tests and benchmarks."""
    _lock()
    upsert = insert(Symbol).values([{"symbol": s, "active": True, "position": i} for i, s in enumerate(symbols)])
    db.session.execute(upsert.on_conflict_do_nothing(index_elements=[Symbol.symbol]))
    first = chosen(None)
    db.session.execute(delete(WatchlistEntry).where(WatchlistEntry.symbol.not_in(symbols)))
    db.session.execute(delete(WatchlistEntry).where(WatchlistEntry.watchlist_id == first.id))
    db.session.add_all(WatchlistEntry(watchlist_id=first.id, symbol=s, position=i) for i, s in enumerate(symbols))
    _settle()
    db.session.commit()


def _new_list(name: str) -> Watchlist:
    last = db.session.scalar(select(func.max(Watchlist.position)))
    made = Watchlist(name=name, position=0 if last is None else last + 1)
    db.session.add(made)
    db.session.flush()
    return made


def _refuse_taken(name: str, besides: int | None = None) -> None:
    # lower() as the unique index takes it: PostgreSQL's and Python's differ for some letters (İ).
    same = select(Watchlist.id).where(func.lower(Watchlist.name) == func.lower(name), Watchlist.id != (besides or 0))
    if db.session.scalar(same) is not None:
        db.session.rollback()
        raise ApiError(CONFLICT, f"there is a watchlist named {name} already", "name")


def _next_position(list_id: int) -> int:
    last = db.session.scalar(select(func.max(WatchlistEntry.position)).where(WatchlistEntry.watchlist_id == list_id))
    return 0 if last is None else last + 1


# A symbol is watched while on a list; its place in the union is its first place in the lists,
# taken in the tabs' order. One statement for every symbol, after every edit.
_SETTLE = text(
    """
    UPDATE symbols s SET active = u.symbol IS NOT NULL, position = coalesce(u.place, s.position)
    FROM symbols s2 LEFT JOIN (
        SELECT symbol, row_number() OVER (ORDER BY first_place, symbol) - 1 AS place
        FROM (SELECT e.symbol, min(ARRAY[l.position, l.id, e.position]) AS first_place
              FROM watchlist_entries e JOIN watchlists l ON l.id = e.watchlist_id GROUP BY e.symbol) f
    ) u ON u.symbol = s2.symbol
    WHERE s.symbol = s2.symbol AND (s.active IS DISTINCT FROM (u.symbol IS NOT NULL)
                                    OR s.position IS DISTINCT FROM coalesce(u.place, s.position))
    """
)


def _settle() -> None:
    db.session.flush()
    db.session.execute(_SETTLE)
    db.session.expire_all()  # rows read before hold the old active and position


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
