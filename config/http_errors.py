"""Refusals gunicorn writes itself (a request line or header past its limits, a malformed
request) in the API's JSON shape, ``{"error", "field"}``, instead of gunicorn's HTML page."""

from __future__ import annotations

import json
import socket

from gunicorn import util

FIELDS = {414: "url", 431: "headers"}


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    body = json.dumps({"error": f"{reason}: {mesg}" if mesg else reason, "field": FIELDS.get(status_int)})
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin1", "replace"))


def install() -> None:
    """gunicorn's workers call ``util.write_error`` for these: answer in JSON from now on."""
    util.write_error = write_json_error
