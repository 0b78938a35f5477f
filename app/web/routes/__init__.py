"""The REST API, a blueprint per feature; each route declares itself for /openapi.json (app/web/schema.py)."""

from __future__ import annotations

from flask import Blueprint, request

from app.web.errors import ApiError


def json_body() -> object:
    if not request.is_json:
        raise ApiError(415, "send the body as JSON (Content-Type: application/json)")
    return request.get_json(silent=True)


def blueprints() -> list[Blueprint]:
    from app.web.routes import alerts, channels, openapi, portfolio, prices, status, watchlist

    return [module.bp for module in (openapi, watchlist, prices, alerts, channels, portfolio, status)]
