"""One JSON error shape for the whole API: {"error": message, "field": name-or-null}."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.services import outage_reason

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

# The refusals, by what /openapi.json can say (tests/integration/test_openapi.py holds them to it):
INVALID = 400  # the request is not of the form the document states
CONFLICT = 409  # it is, but the state refuses it: a limit reached, the login off, a name taken
UNPROCESSABLE = 422  # it is, but its values do not go together, or name what is not there


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
            limit = request.max_content_length  # the app's, or the route's own
            return error_response(413, f"request body is larger than {limit} bytes")
        return error_response(status, exc.description or exc.name)

    # A server away (restarting, unreachable): 503 with a message and no traceback; the
    # processes reconnect by themselves (README, "When a server restarts").
    @app.errorhandler(OperationalError)
    def _database_away(exc: OperationalError) -> tuple[Response, int]:
        return _server_away("PostgreSQL", exc)

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _redis_away(exc: Exception) -> tuple[Response, int]:
        return _server_away("Redis", exc)


def _server_away(server: str, exc: BaseException) -> tuple[Response, int]:
    log.warning("%s unavailable, answered 503: %s", server, outage_reason(exc))
    response, status = error_response(503, f"{server} is unavailable right now; try again in a few seconds")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status
