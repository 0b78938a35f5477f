"""`flask --app wsgi setup`: migrate the database, sync symbols, create the Kafka topic."""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from app.prices import sync_symbols
from app.pubsub import AUTO_SOURCE_KEY
from app.services import ensure_topic, redis_client

log = logging.getLogger(__name__)


@click.command("setup")
def setup_command() -> None:
    """Bring PostgreSQL and Kafka to what this version needs; safe to run again."""
    settings = current_app.config["SETTINGS"]
    upgrade()
    sync_symbols(settings.symbols)
    redis_client().delete(AUTO_SOURCE_KEY)  # PRICE_SOURCE=auto decides afresh at each start
    created = ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    log.info(
        "setup done: migrations applied, symbols %s active, topic %r %s",
        ",".join(settings.symbols),
        settings.kafka_topic,
        f"created with {settings.kafka_partitions} partitions" if created else "already there",
    )


def register_cli(app: Flask) -> None:
    app.cli.add_command(setup_command)
