"""One JSON error shape for the whole API: {"error": message, "field": name-or-null}."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error the client can fix; becomes a 4xx JSON response."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def error_response(status: int, message: str, field: str | None = None) -> tuple[Response, int]:
    return jsonify(error=message, field=field), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Response, int]:
        return error_response(exc.status, exc.message, exc.field)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        if status == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            return error_response(413, f"request body is larger than {limit} bytes")
        return error_response(status, exc.description or exc.name)
