"""Upgrading an install from before candles: migration 0006 on a database of its own that holds
ticks, then `flask setup`'s candle rebuild."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from app import create_app
from app.extensions import db
from app.market import candles
from app.market.partitions import existing_days


def test_0006_moves_existing_ticks_into_day_partitions_and_setup_makes_their_candles(app, settings):
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS upgrade_test"))
        connection.execute(text("CREATE DATABASE upgrade_test"))
    url = make_url(settings.database_url).set(database="upgrade_test").render_as_string(hide_password=False)
    old = create_app(replace(settings, database_url=url), TESTING=True)
    start = datetime(2026, 10, 30, 23, 50, tzinfo=UTC)
    try:
        with old.app_context():
            upgrade(revision="0005")
            db.session.execute(text("INSERT INTO symbols (symbol) VALUES ('BTC-USD')"))
            db.session.execute(
                text(
                    "INSERT INTO ticks (symbol, price, observed_at, received_at, source) "
                    "SELECT 'BTC-USD', 100 + g, :start + g * interval '1 minute', :start, 'simulated' "
                    "FROM generate_series(0, 19) g"
                ),
                {"start": start},
            )
            db.session.commit()
            upgrade()  # 0006
            rows = db.session.execute(text("SELECT id, price FROM ticks ORDER BY observed_at")).all()
            assert [r.id for r in rows] == list(range(1, 21)) and float(rows[-1].price) == 119
            assert {start.date(), (start + timedelta(days=1)).date()} <= existing_days()
            next_id = db.session.scalar(
                text("INSERT INTO ticks (symbol, price, observed_at, received_at, source) "
                     "VALUES ('BTC-USD', 1, now(), now(), 'simulated') RETURNING id")
            )  # fmt: skip
            assert next_id == 21  # the id sequence carried over
            db.session.rollback()
            assert candles.missing()
            assert candles.rebuild() == 2  # what setup does: two days of ticks
            assert not candles.missing()
            assert db.session.scalar(text("SELECT sum(ticks) FROM candles_1h")) == 20
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS upgrade_test WITH (FORCE)"))
        admin.dispose()
