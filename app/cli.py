"""`flask --app wsgi setup`: migrate the database, seed the watchlist (first start), create the Kafka topic."""

from __future__ import annotations

import logging
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from app.access import tokens
from app.market import candles, watchlist
from app.market.partitions import ensure_ahead
from app.market.prices import symbol_exists
from app.market.sources import SourceError, UnknownSymbol
from app.market.sources.chosen import price_source
from app.market.sources.exchange import UnknownExchange, exchange_class
from app.pipeline.pubsub import AUTO_SOURCE_KEY
from app.services import ensure_topic, redis_client
from app.web.errors import ApiError
from app.web.validation import normalise_symbol, parse_instant
from config.settings import Settings

log = logging.getLogger(__name__)


@click.command("setup")
def setup_command() -> None:
    """Bring PostgreSQL and Kafka to what this version needs; safe to run again."""
    settings = current_app.config["SETTINGS"]
    _check_exchanges(settings)
    upgrade()
    seeded = watchlist.seed(settings.symbols)
    ensure_ahead()
    if candles.missing():
        log.info("ticks without candles (an install from before candles, or restored): rebuilding them")
        candles.rebuild(progress=_progress)
    redis_client().delete(AUTO_SOURCE_KEY)  # PRICE_SOURCE=auto decides afresh at each start
    _describe_watchlist()
    topic = (settings.kafka_topic, settings.kafka_partitions, settings.kafka_retention_hours)
    created = ensure_topic(settings.kafka_bootstrap_servers, *topic)
    watched = [s["symbol"] for s in watchlist.watchlist()]
    log.info(
        "setup done: migrations applied, watchlist %s (%s), topic %r (and its .dlq) %s",
        ",".join(watched),
        "seeded from SYMBOLS" if seeded else "SYMBOLS is read on the first start only; edit it in the page or the API",
        settings.kafka_topic,
        f"created with {settings.kafka_partitions} partitions" if created else "already there",
    )


def _check_exchanges(settings: Settings) -> None:
    """An exchange ccxt does not know stops the start with one line naming the setting."""
    for name, value in (("CRYPTO_SOURCE", settings.crypto_source), ("CRYPTO_FALLBACK", settings.crypto_fallback)):
        if value and value.startswith("ccxt:"):
            try:
                exchange_class(value.removeprefix("ccxt:"))
            except UnknownExchange as exc:
                raise click.ClickException(f"{name}={value}: {exc}") from None


def _describe_watchlist() -> None:
    """Names, currencies and exchanges for watched symbols that have none yet (seeded, or from
    before the watchlist), from the price source; one that cannot be described keeps its blanks."""
    missing = watchlist.undescribed()
    if not missing:
        return
    source = price_source()
    for symbol in missing:
        try:
            watchlist.describe(source.describe(symbol))
        except (UnknownSymbol, SourceError) as exc:
            log.warning("%s: %s could not be described (%s); its card shows the symbol only", source.name, symbol, exc)


def _progress(symbol: str, day: date) -> None:
    log.info("candles rebuilt for %s on %s", symbol, day.isoformat())


@click.group("rollups")
def rollups_group() -> None:
    """Candles (1-minute and 1-hour OHLC) kept from the raw ticks."""


@rollups_group.command("rebuild")
@click.option("--symbol", help="only this symbol (default: all)")
@click.option("--since", help="from this ISO time on (default: the first stored tick), e.g. 2026-11-01T00:00Z")
def rebuild_command(symbol: str | None, since: str | None) -> None:
    """Recompute candles from raw ticks, one symbol-day per transaction, while the pipeline runs."""
    try:
        start = parse_instant(since, "--since") if since is not None else None
        symbol = normalise_symbol(symbol, "--symbol") if symbol is not None else None
    except ApiError as exc:
        raise click.UsageError(exc.message) from None
    if symbol is not None and not symbol_exists(symbol):
        raise click.UsageError(f"--symbol {symbol} is not a known symbol")
    days = candles.rebuild(symbol, start, progress=_progress)
    click.echo(f"rebuilt candles for {days} symbol-days")


@click.group("tokens", cls=AppGroup)
def tokens_group() -> None:
    """API tokens for scripts (Authorization: Bearer <token>)."""


@tokens_group.command("create")
@click.argument("name")
def create_token_command(name: str) -> None:
    """Make a token named NAME; it is printed this once and stored only as a hash."""
    try:
        row, secret = tokens.create_token(tokens.parse_token_name(name))
    except ApiError as exc:
        raise click.UsageError(exc.message) from None
    click.echo(f"token {row['id']} ({row['name']}): {secret}")


@tokens_group.command("list")
def list_tokens_command() -> None:
    for row in tokens.list_tokens():
        click.echo(
            f"{row['id']}\t{row['hint']}…\t{row['name']}\tcreated {row['created_at']}\tlast used {row['last_used_at']}"
        )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    if not tokens.revoke_token(token_id):
        raise click.UsageError(f"no API token with id {token_id}")
    click.echo(f"token {token_id} revoked")


def register_cli(app: Flask) -> None:
    app.cli.add_command(setup_command)
    app.cli.add_command(rollups_group)
    app.cli.add_command(tokens_group)
