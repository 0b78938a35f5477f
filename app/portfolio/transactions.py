"""Transactions: entered, listed, deleted, imported and exported as CSV. Every change is checked
against the whole history of its symbols under the symbols' row locks, so two requests at once
cannot together sell more than was held (app/portfolio/positions.py says why one is refused)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import delete, select

from app.extensions import db
from app.models import Symbol, Transaction
from app.portfolio.positions import Oversold, Trade, plain, positions
from app.web.errors import CONFLICT, INVALID, UNPROCESSABLE, ApiError
from app.web.validation import TradeSpec, parse_trade

CSV_COLUMNS = ("date", "symbol", "side", "quantity", "price", "fees", "note")
MAX_IMPORT_ROWS = 10_000


def as_trade(row: Transaction) -> Trade:
    return Trade(row.id, row.symbol, row.side, row.quantity, row.price, row.fees, row.traded_at)  # type: ignore[arg-type]


def transaction_json(row: Transaction) -> dict[str, Any]:
    """Money and quantities as decimal strings: no digit lost to a float."""
    return {
        "id": row.id,
        "symbol": row.symbol,
        "side": row.side,
        "quantity": plain(row.quantity),
        "price": plain(row.price),
        "fees": plain(row.fees),
        "date": row.traded_at.astimezone(UTC).isoformat(),
        "note": row.note,
    }


def list_transactions(symbol: str | None = None) -> list[dict[str, Any]]:
    """Newest first (by date, then id)."""
    query = select(Transaction).order_by(Transaction.traded_at.desc(), Transaction.id.desc())
    if symbol is not None:
        query = query.where(Transaction.symbol == symbol)
    return [transaction_json(row) for row in db.session.scalars(query)]


def all_trades() -> list[Trade]:
    return [as_trade(row) for row in db.session.scalars(select(Transaction))]


def add(spec: TradeSpec) -> dict[str, Any]:
    """Store one transaction; 422 for a symbol not in the table, 409 for a sell of more than held."""
    return transaction_json(_store([spec])[0])


def import_rows(specs: Sequence[TradeSpec], lines: Sequence[int]) -> int:
    """Store every row or none: a refusal names the line of the row it is about."""
    return len(_store(specs, lines))


def _store(specs: Sequence[TradeSpec], lines: Sequence[int] | None = None) -> list[Transaction]:
    symbols = sorted({spec.symbol for spec in specs})
    try:
        known = _lock(symbols)
        for n, spec in enumerate(specs):
            if spec.symbol not in known:
                raise ApiError(UNPROCESSABLE, _at(lines, n, f"unknown symbol {spec.symbol} (watch it first)"), "symbol")
        rows = [
            Transaction(
                symbol=s.symbol, side=s.side, quantity=s.quantity, price=s.price, fees=s.fees, traded_at=s.traded_at,
                note=s.note,
            )
            for s in specs
        ]  # fmt: skip
        db.session.add_all(rows)
        db.session.flush()  # ids: same-day rows count in the order given
        try:
            positions(_trades_of(symbols))
        except Oversold as exc:
            index = next((n for n, row in enumerate(rows) if row.id == exc.trade.id), None)
            raise ApiError(CONFLICT, _at(lines, index, str(exc)), "quantity") from None
    except ApiError:
        db.session.rollback()  # nothing stored, and the symbols' locks let go
        raise
    db.session.commit()
    return rows


def remove(transaction_id: int) -> dict[str, Any] | None:
    """Delete one; None if there is none. 409 if a later sell would then sell more than held."""
    row = db.session.get(Transaction, transaction_id)
    if row is None:
        return None
    _lock([row.symbol])
    gone = transaction_json(row)
    db.session.execute(delete(Transaction).where(Transaction.id == transaction_id))
    try:
        positions(_trades_of([row.symbol]))
    except Oversold as exc:
        db.session.rollback()
        raise ApiError(CONFLICT, f"deleting it would make a later sell too large: {exc}", None) from None
    db.session.commit()
    return gone


def _lock(symbols: Iterable[str]) -> set[str]:
    """Lock the symbols' rows (in name order: no deadlock between two imports); the ones that exist."""
    query = select(Symbol.symbol).where(Symbol.symbol.in_(list(symbols))).order_by(Symbol.symbol).with_for_update()
    return set(db.session.scalars(query))


def _trades_of(symbols: Iterable[str]) -> list[Trade]:
    query = select(Transaction).where(Transaction.symbol.in_(list(symbols)))
    return [as_trade(row) for row in db.session.scalars(query)]


def _at(lines: Sequence[int] | None, index: int | None, message: str) -> str:
    return message if lines is None or index is None else f"line {lines[index]}: {message}"


def parse_csv(text: str) -> tuple[list[TradeSpec], list[int]]:
    """The rows of a CSV with the columns CSV_COLUMNS (a header line first, in any order; fees and
    note may be left out), with their line numbers; ApiError naming the line of the first bad row."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS[:5] if c not in header]
    if missing:
        raise ApiError(INVALID, f"line 1: the header must name the columns {', '.join(CSV_COLUMNS)} (missing: "
                       f"{', '.join(missing)})")  # fmt: skip
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise ApiError(INVALID, f"line 1: unknown column {unknown[0]!r} (columns: {', '.join(CSV_COLUMNS)})")
    reader.fieldnames = header
    specs: list[TradeSpec] = []
    lines: list[int] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise ApiError(INVALID, f"line {line}: more values than columns")
        if not any((value or "").strip() for value in row.values()):
            continue  # a blank line
        if len(specs) == MAX_IMPORT_ROWS:
            raise ApiError(INVALID, f"at most {MAX_IMPORT_ROWS:,} rows in one import")
        try:
            specs.append(parse_trade({k: (v or "").strip() or None for k, v in row.items()}))
        except ApiError as exc:
            raise ApiError(exc.status, f"line {line}: {exc.message}", exc.field) from None
        lines.append(line)
    if not specs:
        raise ApiError(INVALID, "the CSV has no rows under its header")
    return specs, lines


def export_csv() -> str:
    """Every transaction, oldest first, in the columns an import reads back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = db.session.scalars(select(Transaction).order_by(Transaction.traded_at, Transaction.id))
    for row in rows:
        t = transaction_json(row)
        writer.writerow([t["date"], t["symbol"], t["side"], t["quantity"], t["price"], t["fees"], t["note"]])
    return out.getvalue()
