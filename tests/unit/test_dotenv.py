"""`make run` reads .env as honcho and foreman do: the file's values under the environment's.
With the login settings only in .env, the login stayed off (issue 20)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.access.passwords import hash_password
from config.settings import load_settings
from devstack.run import environment, process_env


@pytest.fixture
def dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("AUTH_USERNAME", "AUTH_PASSWORD_HASH", "AUTH_PASSWORD", "SECRET_KEY", "LOGIN_RATE_LIMIT", "WEB_PORT"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / ".env"
    path.write_text(
        "# as .env.example has them\n"
        "AUTH_USERNAME=alice\n"
        f"AUTH_PASSWORD_HASH='{hash_password('correct horse')}'\n"  # single quotes: it holds $
        "SECRET_KEY=0123456789abcdef0123456789abcdef\n"
        "LOGIN_RATE_LIMIT=5 per minute;30 per hour\n"
        "AUTH_PASSWORD=\n"  # empty: as unset
        "WEB_PORT=8123\n"
    )
    return path


def test_the_login_in_dotenv_turns_the_login_on(dotenv: Path):
    env = environment(dotenv)
    settings = load_settings(env)
    assert settings.auth_enabled and settings.auth_username == "alice"
    assert settings.auth_password_hash is not None and settings.auth_password_hash.startswith("scrypt:")
    assert settings.web_port == 8123
    assert env["LOGIN_RATE_LIMIT"] == "5 per minute;30 per hour"
    processes = process_env(settings, {"REDIS_URL": "redis://127.0.0.1:1"}, env)
    assert processes["AUTH_USERNAME"] == "alice" and processes["REDIS_URL"] == "redis://127.0.0.1:1"


def test_the_environment_wins_over_the_file(dotenv: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEB_PORT", "8200")
    assert load_settings(environment(dotenv)).web_port == 8200


def test_without_a_file_the_environment_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEB_PORT", "8300")
    assert environment(tmp_path / "missing.env") == dict(os.environ)
