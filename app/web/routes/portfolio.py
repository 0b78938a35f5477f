"""Holdings: transactions (entered one by one or as CSV) and the portfolio they make, valued live."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request

from app.market import prices, ranges
from app.portfolio import history, transactions, valuation
from app.web import schema as S
from app.web.errors import ApiError
from app.web.routes import json_body
from app.web.schema import answers, documented
from app.web.validation import normalise_symbol, parse_trade

bp = Blueprint("portfolio", __name__)
MAX_CSV_BYTES = 2 * 1024 * 1024  # 10,000 rows of about 100 characters, twice over


@bp.get("/api/transactions")
@documented(answers(200, S.TransactionList, 404), "portfolio", query=S.TransactionsQuery)
def list_transactions() -> Response:
    """Newest first; ``symbol`` keeps one symbol's (404 for one never watched: a typo, not an empty list)."""
    symbol = request.args.get("symbol")
    if symbol is None:
        return jsonify(transactions=transactions.list_transactions())
    symbol = normalise_symbol(symbol)
    if not prices.symbol_exists(symbol):
        raise ApiError(404, f"unknown symbol {symbol}", "symbol")
    return jsonify(transactions=transactions.list_transactions(symbol))


@bp.post("/api/transactions")
@documented(answers(201, S.OneTransaction, 409, 413, 415, 422), "portfolio", json=S.NewTransaction)
def add_transaction() -> tuple[Response, int]:
    """Record a buy or sell of a watched symbol; a sell of more than is held at its date is refused (409)."""
    made = transactions.add(parse_trade(json_body()))
    return jsonify(transaction=made), 201


@bp.delete("/api/transactions/<int:transaction_id>")
@documented(answers(200, S.OneTransaction, 404, 409), "portfolio")
def delete_transaction(transaction_id: int) -> Response:
    """Delete one; refused (409) if a later sell would then sell more than is held."""
    gone = transactions.remove(transaction_id)
    if gone is None:
        raise ApiError(404, f"no transaction with id {transaction_id}")
    return jsonify(transaction=gone)


@bp.post("/api/transactions/import")
@documented(answers(201, S.Imported, 409, 413, 415, 422), "portfolio")
def import_transactions() -> tuple[Response, int]:
    """A CSV (Content-Type: text/csv) with a header naming date, symbol, side, quantity, price and
    optionally fees and note: every row is stored, or none and the first bad row's line is named."""
    if request.mimetype != "text/csv":
        raise ApiError(415, "send the CSV as the body with Content-Type: text/csv")
    request.max_content_length = MAX_CSV_BYTES  # the API's 4 KB is for JSON bodies
    try:
        text = request.get_data(cache=False).decode("utf-8-sig")  # a spreadsheet's BOM is no column name
    except UnicodeDecodeError:
        raise ApiError(400, "the CSV must be UTF-8 text") from None
    specs, lines = transactions.parse_csv(text)
    return jsonify(imported=transactions.import_rows(specs, lines)), 201


@bp.get("/api/transactions/export")
@documented(answers(200, None), "portfolio")
def export_transactions() -> Response:
    """Every transaction as CSV, oldest first, in the columns the import reads."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(
        transactions.export_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="transactions-{stamp}.csv"'},
    )


@bp.get("/api/portfolio")
@documented(answers(200, S.Portfolio), "portfolio")
def portfolio() -> Response:
    """Each position's quantity, average cost, value, day change and P&L at the newest stored
    price, and the totals in BASE_CURRENCY."""
    base = current_app.config["SETTINGS"].base_currency
    return jsonify(valuation.portfolio(transactions.all_trades(), base, datetime.now(UTC)))


@bp.get("/api/portfolio/history")
@documented(answers(200, S.PortfolioHistory, 422), "portfolio", query=S.SpanQuery)
def portfolio_history() -> Response:
    """The portfolio's value and cost over a range (1h, 24h, 7d, 30d, 1y, all) or from/to, from the
    candles and the transactions, on the prices' bucket grid, in BASE_CURRENCY."""
    settings = current_app.config["SETTINGS"]
    now = datetime.now(UTC)
    span = ranges.parse_span(request.args, now)
    return jsonify(
        history.value_history(
            transactions.all_trades(), settings.base_currency, span, now, settings.raw_retention_days,
            settings.candles_1m_retention_days,
        )
    )  # fmt: skip
