"""Log-in rate limiting that holds across processes and app instances.

Attempts are counted in a sliding window per login and per client address. The store is the
database by default (every process shares it) or Redis when ``TRAINER_REDIS_URL`` is set,
which is cheaper under load and what production uses.

How an attempt is counted, so that neither other spellings nor parallel requests get around it:

* The login key is the *normalised* login, the one ``find_by_login`` resolves: a phone number
  in any spelling (``+86 138…``, ``0086-…``, spaces, full width) is one key, a username is
  lower-cased; keys are hashed, so their length is bounded whatever was sent.
* The attempt is recorded *before* the password is checked, then counted: when the count
  (this attempt included) is over the limit the attempt is refused, and forgotten again so
  that waiting out the window is enough. Requests racing each other all see each other.
* A wrong password leaves the attempt recorded: that is a failure. On success the login's
  failures are cleared and only this attempt's address entry is removed, so successful
  log-ins of many workers behind one NAT address never add up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app

from trainer.accounts.models import LoginFailure
from trainer.accounts.rules import nfkc, normalise_phone
from trainer.clock import utcnow
from trainer.db import db


class AttemptStore(Protocol):
    def add(self, key: str, window_seconds: int) -> str:
        """Record an attempt now; returns its entry id. Visible to others after commit()."""
        ...

    def count(self, key: str, window_seconds: int) -> int: ...
    def remove(self, key: str, entry: str) -> None: ...
    def clear(self, key: str) -> None: ...
    def commit(self) -> None: ...


class DatabaseStore:
    """Rows of ``login_failures``. Changes become visible to every process at ``commit()``
    (one commit when an attempt begins, one when it succeeds or is refused)."""

    def add(self, key: str, window_seconds: int) -> str:
        row = LoginFailure(key=key)
        db.session.add(row)
        db.session.flush()
        return str(row.id)

    def prune(self, window_seconds: int) -> None:
        cutoff = utcnow() - dt.timedelta(seconds=window_seconds)
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.at <= cutoff))

    def count(self, key: str, window_seconds: int) -> int:
        since = utcnow() - dt.timedelta(seconds=window_seconds)
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(LoginFailure)
            .where(LoginFailure.key == key, LoginFailure.at > since)
        ) or 0

    def remove(self, key: str, entry: str) -> None:
        db.session.execute(
            sa.delete(LoginFailure).where(LoginFailure.key == key, LoginFailure.id == int(entry))
        )

    def clear(self, key: str) -> None:
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key == key))

    def commit(self) -> None:
        db.session.commit()


class RedisStore:
    """A sorted set of attempt timestamps per key, trimmed to the window."""

    def __init__(self, url: str) -> None:
        self.redis = _redis_client(url)

    def _key(self, key: str) -> str:
        return f"trainer:login-failures:{key}"

    def add(self, key: str, window_seconds: int) -> str:
        now = time.time()
        name = self._key(key)
        # Unique members: two attempts in the same microsecond are still two attempts.
        entry = f"{now:.6f}:{secrets.token_hex(8)}"
        pipe = self.redis.pipeline()
        pipe.zadd(name, {entry: now})
        pipe.expire(name, window_seconds)
        pipe.execute()
        return entry

    def count(self, key: str, window_seconds: int) -> int:
        now = time.time()
        name = self._key(key)
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(name, 0, now - window_seconds)
        pipe.zcard(name)
        return int(pipe.execute()[1])

    def remove(self, key: str, entry: str) -> None:
        self.redis.zrem(self._key(key), entry)

    def clear(self, key: str) -> None:
        self.redis.delete(self._key(key))

    def commit(self) -> None:
        """Every Redis command is visible at once."""


_REDIS_CLIENTS: dict[str, Any] = {}
_REDIS_LOCK = threading.Lock()


def _redis_client(url: str) -> Any:
    """One client (and connection pool) per URL and process, not a new one per log-in."""
    with _REDIS_LOCK:
        client = _REDIS_CLIENTS.get(url)
        if client is None:
            import redis

            client = _REDIS_CLIENTS[url] = redis.Redis.from_url(url, socket_timeout=2)
        return client


def store() -> AttemptStore:
    url = current_app.config.get("REDIS_URL")
    return RedisStore(url) if url else DatabaseStore()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def login_key(login: str) -> str:
    """One key per account, however the login was spelled; bounded length."""
    identity = normalise_phone(login) or nfkc(login).strip().lower()
    return "login:" + _digest(identity)


def address_key(address: str) -> str:
    try:
        return "ip:" + str(ipaddress.ip_address(address))
    except ValueError:  # not an address (a misconfigured proxy header?): bounded anyway
        return "ip:" + _digest(address)


def keys_for(login: str, address: str | None) -> list[str]:
    keys = [login_key(login)]
    if address:
        keys.append(address_key(address))
    return keys


def _limit(key: str) -> int:
    limit = int(current_app.config["LOGIN_MAX_FAILURES"])
    # The address limit is wider: many workers of one site share a NAT address.
    return limit if key.startswith("login:") else limit * 10


@dataclass
class Attempt:
    """One log-in attempt's entries in the store: (key, entry id), the login key first."""

    entries: list[tuple[str, str]] = field(default_factory=list)


def begin(login: str, address: str | None) -> Attempt | None:
    """Record an attempt before its password is checked; None when over the limit."""
    s = store()
    window = int(current_app.config["LOGIN_WINDOW_SECONDS"])
    keys = keys_for(login, address)
    if isinstance(s, DatabaseStore):
        s.prune(window)  # old rows go as we go
    attempt = Attempt([(key, s.add(key, window)) for key in keys])
    s.commit()  # visible to every other process before we count
    if any(s.count(key, window) > _limit(key) for key in keys):
        # Refused without checking a password: forget it, so waiting out the window is
        # enough. Racing requests that counted this entry were refused too.
        for key, entry in attempt.entries:
            s.remove(key, entry)
        s.commit()
        return None
    return attempt


def succeeded(attempt: Attempt) -> None:
    """The password was right: clear the login's failures, drop this attempt's address entry."""
    s = store()
    (login, _entry), *others = attempt.entries
    s.clear(login)
    for key, entry in others:
        s.remove(key, entry)
    s.commit()
