"""API tokens: made once and shown once, kept as SHA-256, revoked by deleting the row."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.models import ApiToken
from app.web.errors import CONFLICT, ApiError
from app.web.validation import parse_name

PREFIX = "st_"
MAX_NAME_LENGTH = 64
MAX_TOKENS = 50
HINT_LENGTH = 10  # "st_" and 7 characters of the random part
LAST_USED_STEP = timedelta(minutes=1)  # last_used_at is written at most this often


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _as_dict(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "hint": row.hint,
        "created_at": row.created_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    }


def parse_token_name(value: object) -> str:
    """What the token is for, as the list shows it."""
    return parse_name(value, "name", MAX_NAME_LENGTH)


def create_token(name: str) -> tuple[dict[str, Any], str]:
    """A new token: its row and the token itself, which is shown this once and never again."""
    if db.session.scalar(select(func.count()).select_from(ApiToken)) >= MAX_TOKENS:
        raise ApiError(CONFLICT, f"at most {MAX_TOKENS} API tokens: revoke one first", "name")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_sha256=_digest(token), hint=token[:HINT_LENGTH])
    db.session.add(row)
    db.session.commit()
    return _as_dict(row), token


def list_tokens() -> list[dict[str, Any]]:
    return [_as_dict(row) for row in db.session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(token_id: int) -> bool:
    deleted = db.session.execute(delete(ApiToken).where(ApiToken.id == token_id).returning(ApiToken.id)).first()
    db.session.commit()
    return deleted is not None


def token_name(token: str) -> str | None:
    """The name of a valid token (its last use noted, at most once a minute), or None."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    digest = _digest(token)
    row = db.session.execute(
        update(ApiToken)
        .where(ApiToken.token_sha256 == digest)
        .where(
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < func.now() - LAST_USED_STEP,
            )
        )
        .values(last_used_at=func.now())
        .returning(ApiToken.name)
    ).first()
    if row is None:
        row = db.session.execute(select(ApiToken.name).where(ApiToken.token_sha256 == digest)).first()
    db.session.commit()
    return row[0] if row else None
