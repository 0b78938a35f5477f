"""The login's password: werkzeug's scrypt hash, checked in constant time whatever the username."""

from __future__ import annotations

import hmac

from werkzeug.security import check_password_hash, generate_password_hash

from config.settings import Settings

# Checked against when the username is wrong, so a wrong username costs the same as a wrong password.
_DUMMY_HASH = generate_password_hash("not the password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


class Credentials:
    """The one user's name and password hash, from AUTH_USERNAME and AUTH_PASSWORD_HASH (or AUTH_PASSWORD)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.auth_enabled:
            raise ValueError("the login is off: AUTH_USERNAME is not set")
        self.username: str = settings.auth_username or ""
        self._hash = settings.auth_password_hash or hash_password(settings.auth_password or "")

    def check(self, username: str, password: str) -> bool:
        name_ok = hmac.compare_digest(username.encode(), self.username.encode())
        password_ok = check_password_hash(self._hash if name_ok else _DUMMY_HASH, password)
        return name_ok and password_ok
