"""The OpenAPI 3 document of the API."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.web.schema import openapi_document

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this API, made from the routes' declarations (app/web/schema.py)."""
    return jsonify(openapi_document())
