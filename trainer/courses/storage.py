"""Where lesson media lives: a small storage interface, with the local disk as the one backend.

Keys are relative POSIX paths (``courses/first-lesson/3f2a…9c.mp4``). Lesson media keys carry
the SHA-256 of the content, so a key never changes meaning: an ETag can be derived from the key
and size alone, and a proxy or phone may cache a file forever.

An S3-compatible object store can replace `DiskStorage` by implementing the same methods
(``open`` becomes a ranged GET, ``accel_path`` a presigned URL or a proxy location); the views use
nothing else.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from flask import current_app

CHUNK = 256 * 1024


class StorageError(Exception):
    """A key that is not a safe relative path, or a missing object."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    mtime: float


class Storage(Protocol):
    def put_file(self, key: str, source: Path) -> ObjectInfo: ...
    def exists(self, key: str) -> bool: ...
    def info(self, key: str) -> ObjectInfo: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def local_path(self, key: str) -> Path | None: ...


def check_key(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if (
        not key
        or "\\" in key
        or "\x00" in key
        or path.is_absolute()
        or any(part in {"", ".", ".."} for part in key.split("/"))
    ):
        raise StorageError(f"not a storage key: {key!r}")
    return path


class DiskStorage:
    """Objects as files under ``root``; writes go to a temporary file renamed into place."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).parts)

    def put_file(self, key: str, source: Path) -> ObjectInfo:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, CHUNK)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.info(key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def info(self, key: str) -> ObjectInfo:
        try:
            stat = self._path(key).stat()
        except OSError as exc:
            raise StorageError(f"no such object: {key}") from exc
        return ObjectInfo(key, stat.st_size, stat.st_mtime)

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except OSError as exc:
            raise StorageError(f"no such object: {key}") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


def get_storage() -> Storage:
    """The app's media storage (``MEDIA_ROOT`` on disk)."""
    return DiskStorage(current_app.config["MEDIA_ROOT"])


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_key(prefix: str, source: Path, digest: str | None = None) -> str:
    """A key naming the content: ``<prefix>/<sha256>.<suffix>``."""
    digest = digest or file_digest(source)
    suffix = source.suffix.lower()
    return f"{prefix}/{digest}{suffix}"


def store_by_content(storage: Storage, prefix: str, source: Path) -> tuple[str, ObjectInfo]:
    """Copy ``source`` into storage under its content key, unless it is there already."""
    key = content_key(prefix, source)
    if storage.exists(key):
        return key, storage.info(key)
    return key, storage.put_file(key, source)


def iter_range(stream: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes from ``start``, in chunks; closes the stream at the end."""
    try:
        stream.seek(start)
        remaining = length
        while remaining > 0:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        stream.close()
