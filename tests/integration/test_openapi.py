"""schemathesis against the app on the real servers: every operation of /openapi.json, a few
hundred generated requests each (SCHEMATHESIS_EXAMPLES), valid and not. No 5xx; every answer as
documented; every refusal a JSON {"error", "field"}; a refused request writes nothing."""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from app import create_app
from app.access.tokens import create_token
from app.alerting.alerts import check_ticks
from app.alerting.channels import create_channel
from app.extensions import db
from app.market import watchlist
from app.market.prices import store_ticks
from app.portfolio import transactions
from app.web.validation import parse_trade
from config.settings import load_settings
from tests.integration.helpers import make_alert, tick

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "200"))
# A refusal of invalid data is any 4xx of ours: 413 (body over 4 KiB) and 415 (not JSON) too. Valid
# data may meet 422 (app/web/errors.py: values that do not go together, or name what is not there),
# never 400, which says "not of the documented form".
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {"expected-statuses": ["4XX"]},
            "positive_data_acceptance": {"expected-statuses": ["2XX", "401", "403", "404", "409", "422", "429"]},
        }
    }
)
PRICES = {"BTC-USD": "97000.5", "ETH-USD": "3500.25", "DOGE-USD": "0.2"}
TABLES = (
    "alerts", "alert_channels", "channels", "api_tokens", "ticks", "symbols", "watchlists", "watchlist_entries",
    "transactions",
)  # fmt: skip
CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
    negative_data_rejection, positive_data_acceptance,
]  # fmt: skip


# A test send reaches the generated URL's host: that is test_notifications' business. A CSV import's
# body is text no generator makes valid (test_portfolio imports good and bad files).
SKIPPED = {("POST", "/api/channels/{channel_id}/test"), ("POST", "/api/transactions/import")}


def documented_cases() -> list[tuple[str, str, GenerationMode]]:
    """(method, path, mode) of every documented operation, read without servers (no connection is
    made); invalid requests only where there is something to get wrong (parameters or a body)."""
    env = {"DATABASE_URL": "postgresql://u@127.0.0.1:1/x", "REDIS_URL": "redis://127.0.0.1:1"}
    document = create_app(load_settings(env | {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})).test_client()
    paths = document.get("/openapi.json").json["paths"]
    return sorted(
        (method.upper(), path, mode)
        for path, ops in paths.items()
        for method, op in ops.items()
        if (method.upper(), path) not in SKIPPED
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if mode is GenerationMode.POSITIVE or op.get("parameters") or op.get("requestBody")
    )


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES}  # noqa: S608


def seed(app: Flask) -> dict[str, object]:
    """Rows for the reads to show (a fired alert with deliveries, a change alert, a channel, prices,
    a token) and the path parameters that reach them."""
    with app.app_context():
        # Tokens outlive a test (a module's browser stack holds one); the ones made here do not.
        db.session.execute(text("DELETE FROM api_tokens WHERE name <> 'tests'"))
        db.session.commit()
        ticks = [tick(symbol, price, i) for i in range(3) for symbol, price in PRICES.items()]
        store_ticks(ticks)
        channel = create_channel({"name": "seeded", "url": "json://127.0.0.1:9/hook"})
        fired = make_alert("BTC-USD", "above", "1", channels=[channel["id"]])
        make_alert("ETH-USD", "change", percent=5, window="1h", direction="down", note="seeded")
        check_ticks(ticks)
        token, _ = create_token("seeded")
        made = watchlist.create_list("Seeded")
        watchlist.add("ETH-USD", made["id"], 100)
        bought = transactions.add(parse_trade({"symbol": "ETH-USD", "side": "buy", "quantity": "2", "price": "3000",
                                               "date": "2026-01-02"}))  # fmt: skip
    known = {"symbol": "BTC-USD", "alert_id": fired, "channel_id": channel["id"], "token_id": token["id"]}
    return known | {"list_id": made["id"], "transaction_id": bought["id"]}


@pytest.mark.parametrize(("method", "path", "mode"), documented_cases())
def test_every_operation_answers_as_documented(app: Flask, method: str, path: str, mode: GenerationMode):
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)[path][method]
    known = seed(app)
    in_path = {name: known[name] for name in re.findall(r"{(\w+)}", path)}
    # Generated path parameters mostly name nothing (404): half the cases use ones that exist.
    cases = operation.as_strategy(generation_mode=mode)
    if in_path:
        cases = cases | operation.as_strategy(generation_mode=mode, path_parameters=in_path)

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case) -> None:
        before = row_counts(app)
        response = case.call()
        case.validate_response(response, checks=CHECKS)
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"error", "field"} and isinstance(body["error"], str) and body["error"]
            assert row_counts(app) == before, f"{method} {case.formatted_path} was refused but wrote"

    answers_as_documented()


def test_the_document_covers_every_api_route(app: Flask, client):
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routes = {
        (rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/", "/history/", "/healthz"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented
    alert = document["components"]["schemas"]["NewAlert"]
    # symbol is required for every rule but the portfolio's: the validation says so (422)
    assert not alert.get("required") and {"symbol", "threshold", "at", "timezone"} <= set(alert["properties"])
