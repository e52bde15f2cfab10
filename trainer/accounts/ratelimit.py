"""Log-in rate limiting that holds across processes and app instances.

Failures are counted in a sliding window per login name and per client address. The store is
the database by default (every process shares it) or Redis when ``TRAINER_REDIS_URL`` is set,
which is cheaper under load and what production uses.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

import sqlalchemy as sa
from flask import current_app

from trainer.accounts.models import LoginFailure
from trainer.clock import utcnow
from trainer.db import db


class FailureStore(Protocol):
    def count(self, key: str, window_seconds: int) -> int: ...
    def add(self, key: str, window_seconds: int) -> None: ...
    def clear(self, key: str) -> None: ...


class DatabaseStore:
    def count(self, key: str, window_seconds: int) -> int:
        since = utcnow() - dt.timedelta(seconds=window_seconds)
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(LoginFailure)
            .where(LoginFailure.key == key, LoginFailure.at > since)
        ) or 0

    def add(self, key: str, window_seconds: int) -> None:
        # Committed on its own: a failed log-in must count even though the request changes
        # nothing else, and old rows are pruned as we go.
        cutoff = utcnow() - dt.timedelta(seconds=window_seconds)
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.at <= cutoff))
        db.session.add(LoginFailure(key=key))
        db.session.commit()

    def clear(self, key: str) -> None:
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key == key))


class RedisStore:
    """A sorted set of failure timestamps per key, trimmed to the window."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=2)

    def _key(self, key: str) -> str:
        return f"trainer:login-failures:{key}"

    def count(self, key: str, window_seconds: int) -> int:
        now = time.time()
        name = self._key(key)
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(name, 0, now - window_seconds)
        pipe.zcard(name)
        return int(pipe.execute()[1])

    def add(self, key: str, window_seconds: int) -> None:
        now = time.time()
        name = self._key(key)
        pipe = self.redis.pipeline()
        pipe.zadd(name, {f"{now:.6f}": now})
        pipe.expire(name, window_seconds)
        pipe.execute()

    def clear(self, key: str) -> None:
        self.redis.delete(self._key(key))


def store() -> FailureStore:
    url = current_app.config.get("REDIS_URL")
    return RedisStore(url) if url else DatabaseStore()


def keys_for(login: str, address: str | None) -> list[str]:
    keys = [f"login:{login.strip().lower()}"]
    if address:
        keys.append(f"ip:{address}")
    return keys


def is_locked(login: str, address: str | None) -> bool:
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    s = store()
    # The address limit is wider: many workers of one site share a NAT address.
    return any(
        s.count(k, window) >= (limit if k.startswith("login:") else limit * 10)
        for k in keys_for(login, address)
    )


def record_failure(login: str, address: str | None) -> None:
    s = store()
    for key in keys_for(login, address):
        s.add(key, current_app.config["LOGIN_WINDOW_SECONDS"])


def record_success(login: str) -> None:
    store().clear(keys_for(login, None)[0])
