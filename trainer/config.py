"""Configuration from environment variables, with safe defaults.

Every setting has the prefix ``TRAINER_`` in the environment; ``create_app(config)`` may
override any key for tests. Production refuses to start with the development secret key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEV_SECRET_MARKER = "dev-insecure-"  # noqa: S105  (a prefix, not a key)


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"TRAINER_{name}", default)


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"TRAINER_{name} must be an integer, got {raw!r}") from exc


def instance_dir() -> Path:
    return Path(_env("INSTANCE_DIR") or Path.cwd() / "instance")


def from_environment() -> dict[str, Any]:
    """Read the settings documented in the README's configuration table."""
    env = (_env("ENV") or "production").lower()
    development = env in {"development", "dev", "test"}
    inst = instance_dir()
    database_url = _env("DATABASE_URL") or f"sqlite:///{inst / 'trainer.sqlite3'}"
    secret = _env("SECRET_KEY")
    if not secret:
        # A random key per process would log everyone out on every restart and break several
        # workers; only development may run without one.
        secret = DEV_SECRET_MARKER + secrets.token_hex(16) if development else ""
    return {
        "TRAINER_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MEDIA_ROOT": _env("MEDIA_ROOT") or str(inst / "media"),
        "REDIS_URL": _env("REDIS_URL") or None,
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 200) * 1024 * 1024,
        "UPLOAD_MAX_BYTES": _int("MAX_UPLOAD_MB", 200) * 1024 * 1024,
        "IMPORT_MAX_BYTES": _int("IMPORT_MAX_MB", 10) * 1024 * 1024,
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_WINDOW_SECONDS": _int("LOGIN_WINDOW_SECONDS", 900),
        "PASSWORD_HASH_METHOD": _env("PASSWORD_HASH_METHOD") or "scrypt",
        "API_TOKEN_DAYS": _int("API_TOKEN_DAYS", 30),
        "SESSION_COOKIE_SECURE": _bool(_env("SECURE_COOKIES"), not development),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(_env("SECURE_COOKIES"), not development),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": _int("SESSION_HOURS", 12) * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        "X_ACCEL_REDIRECT": _bool(_env("X_ACCEL_REDIRECT"), False),
        # nginx internal location serving MEDIA_ROOT (default /_media when X_ACCEL_REDIRECT).
        "MEDIA_ACCEL_PREFIX": _env("MEDIA_ACCEL_PREFIX") or "",
        "COURSES_DIR": _env("COURSES_DIR") or "",
        "MEDIA_MAX_UPLOAD_BYTES": _int("MEDIA_MAX_UPLOAD_MB", _int("MAX_UPLOAD_MB", 200))
        * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": _env("DEFAULT_LOCALE") or "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE") or "Asia/Shanghai",
        "TIMEZONE": _env("TIMEZONE") or "Asia/Shanghai",
        "CLI_LOCALE": _env("CLI_LOCALE") or "en",
        # Certificate reminders (trainer certificates remind): days before a date, and senders.
        "REMINDER_STAGES": _env("REMINDER_STAGES") or "90,60,30,7",
        "REMINDER_EMAIL_SENDER": _env("REMINDER_EMAIL_SENDER") or "console",
        "REMINDER_SMS_SENDER": _env("REMINDER_SMS_SENDER") or "console",
        "SMTP_HOST": _env("SMTP_HOST") or None,
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USER": _env("SMTP_USER") or None,
        "SMTP_PASSWORD": _env("SMTP_PASSWORD") or None,
        "SMTP_FROM": _env("SMTP_FROM") or None,
    }


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spelling and use the psycopg 3 driver for it."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def check(config: dict[str, Any]) -> None:
    if not config.get("SECRET_KEY"):
        raise RuntimeError(
            "TRAINER_SECRET_KEY is not set. Set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
            "or set TRAINER_ENV=development for a local run."
        )
