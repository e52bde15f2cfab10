"""Uploaded question files kept between the preview and the confirmation.

The file is written under the instance folder (``QUESTION_UPLOAD_DIR``, by default
``<instance>/question_uploads``) as ``<token>.bin`` with a ``<token>.json`` beside it saying who
uploaded it, for which bank, its name, the chosen format and when. The token is 32 random bytes
(URL-safe base64); it is the only thing the browser sends back, is checked against a strict
pattern before it touches a path, and is honoured only for the same user and bank and for
``MAX_AGE`` seconds. Files older than that are removed whenever a new upload is saved.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

MAX_AGE = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class PendingUpload:
    token: str
    user_id: int
    bank_id: int
    filename: str
    format: str | None
    created: float
    data: bytes


def upload_dir() -> Path:
    configured = current_app.config.get("QUESTION_UPLOAD_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "question_uploads"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def save(data: bytes, *, user_id: int, bank_id: int, filename: str,
         file_format: str | None) -> str:
    folder = upload_dir()
    purge_expired(folder)
    token = secrets.token_urlsafe(32)
    meta = {"user_id": user_id, "bank_id": bank_id, "filename": filename[:200],
            "format": file_format, "created": time.time()}
    _write(folder / f"{token}.bin", data)
    _write(folder / f"{token}.json", json.dumps(meta).encode())
    return token


def load(token: str, *, user_id: int, bank_id: int) -> PendingUpload | None:
    """The upload behind ``token`` if it belongs to this user and bank and has not expired."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    folder = upload_dir()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        if meta["user_id"] != user_id or meta["bank_id"] != bank_id:
            return None
        if time.time() - float(meta["created"]) > MAX_AGE:
            discard(token)
            return None
        data = (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return PendingUpload(token, user_id, bank_id, str(meta["filename"]), meta.get("format"),
                         float(meta["created"]), data)


def discard(token: str) -> None:
    if not _TOKEN.match(token):
        return
    folder = upload_dir()
    for suffix in (".bin", ".json"):
        with contextlib.suppress(OSError):
            (folder / f"{token}{suffix}").unlink()


def purge_expired(folder: Path, now: float | None = None) -> int:
    now = time.time() if now is None else now
    removed = 0
    for path in folder.iterdir():
        if path.suffix not in {".bin", ".json"}:
            continue
        try:
            if now - path.stat().st_mtime > MAX_AGE:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
