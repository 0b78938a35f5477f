import json
from datetime import UTC, datetime
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate
from sqlalchemy import func, select, text

from app.extensions import db
from app.market.prices import history, latest_prices, store_ticks
from app.models import Tick as TickRow
from app.pipeline.pubsub import PRICES_CHANNEL
from app.sql_arrays import literal
from tasks.pipeline import persist_ticks
from tests.integration.helpers import tick, wait_for


def count_ticks() -> int:
    return db.session.scalar(select(func.count()).select_from(TickRow))


def test_migrations_have_one_head_and_match_the_models(app, ctx):
    migrate: Migrate = app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config())
    assert len(script.get_heads()) == 1
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": migrate.configure_args["include_name"]})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_the_same_batch_twice_is_stored_once(ctx):
    batch = [tick("BTC-USD", "97000.12", 0), tick("ETH-USD", "3500.5", 0), tick("BTC-USD", "97001", 2)]
    assert len(store_ticks(batch)) == 3
    assert store_ticks(batch) == []
    assert count_ticks() == 3
    stored = db.session.scalars(select(TickRow.price).order_by(TickRow.id)).all()
    assert [str(p) for p in stored] == ["97000.1200000000", "3500.5000000000", "97001.0000000000"]


def test_ticks_of_unknown_symbols_are_dropped_not_fatal(ctx):
    assert [t.symbol for t in store_ticks([tick("NOPE", "1", 0), tick("BTC-USD", "1", 0)])] == ["BTC-USD"]
    assert count_ticks() == 1


def test_persist_task_publishes_only_new_prices(ctx, redis_client):
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(PRICES_CHANNEL)
    wait_for(lambda: pubsub.get_message(timeout=0.1) is None and pubsub.subscribed, 5, "the subscription")
    batch = [
        t.to_message() for t in (tick("BTC-USD", "97000", 0), tick("BTC-USD", "97010", 2), tick("ETH-USD", "3500", 0))
    ]
    assert persist_ticks.run(batch) == 3
    assert persist_ticks.run(batch) == 0  # a re-delivered batch stores and publishes nothing
    message = wait_for(lambda: pubsub.get_message(timeout=0.2), 5, "the batch's price message")
    assert pubsub.get_message(timeout=0.5) is None  # one message for the batch, none for the replay
    frame = json.loads(message["data"])
    assert frame["type"] == "prices"
    received = frame["prices"]
    assert sorted((m["symbol"], m["price"]) for m in received) == [("BTC-USD", 97010.0), ("ETH-USD", 3500.0)]
    assert all(m["source"] == "simulated" and m["received_at"] for m in received)
    assert count_ticks() == 3
    pubsub.close()


def test_history_is_the_newest_points_oldest_first(ctx):
    store_ticks([tick("DOGE-USD", f"0.16{i:02d}", i) for i in range(10)])
    points = history("DOGE-USD", 4)
    assert [p["price"] for p in points] == [0.1606, 0.1607, 0.1608, 0.1609]
    assert points[0]["observed_at"] < points[-1]["observed_at"]


def test_latest_prices_carry_the_previous_one(ctx):
    store_ticks([tick("BTC-USD", "100", 0), tick("BTC-USD", "101", 2), tick("ETH-USD", "50", 0)])
    latest = {p["symbol"]: p for p in latest_prices()}
    assert latest["BTC-USD"]["price"] == 101.0 and latest["BTC-USD"]["previous_price"] == 100.0
    assert latest["ETH-USD"]["price"] == 50.0 and latest["ETH-USD"]["previous_price"] is None
    assert "DOGE-USD" not in latest  # no ticks yet


def test_array_literals_read_back_exactly_in_postgresql(ctx):
    texts = ["BTC-USD", 'a"b', "c\\d", "{x,y}", " sp ", "", None, "NULL", "é€"]
    numbers = [Decimal("100.0000000001"), Decimal("1E-10"), None, Decimal("-0.5")]
    times = [datetime(2026, 12, 6, 14, 0, 0, 123456, tzinfo=UTC), datetime(2020, 2, 29, tzinfo=UTC)]
    row = db.session.execute(
        text("SELECT CAST(:t AS text[]), CAST(:n AS numeric[]), CAST(:d AS timestamptz[]), CAST(:b AS boolean[])"),
        {"t": literal(texts), "n": literal(numbers), "d": literal(times), "b": literal([True, False, None])},
    ).one()
    assert list(row) == [texts, numbers, times, [True, False, None]]
