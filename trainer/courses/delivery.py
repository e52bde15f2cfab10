"""Serving lesson media the way phone browsers expect: byte ranges, validators, proxy hand-off.

iOS Safari will not play an MP4 from a server that does not answer ``Range: bytes=0-1`` with
``206 Partial Content``; it then asks for the whole file as a range and seeks with open-ended
ranges (``bytes=123456-``). Android Chrome starts with ``bytes=0-``. Both revalidate with
``If-None-Match`` / ``If-Range``. `parse_range` is pure; `media_response` builds the answer for
one stored object, or hands the transfer to the front proxy (nginx ``X-Accel-Redirect``) so app
workers never stream video in production.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import PurePosixPath

from flask import Response, request

from trainer.courses.storage import Storage, iter_range

MIME_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".vtt": "text/vtt; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
CACHE_CONTROL = "private, max-age=86400"


def mime_type(key: str) -> str:
    return MIME_TYPES.get(PurePosixPath(key).suffix.lower(), "application/octet-stream")


class Unsatisfiable(Exception):
    """The Range header is valid but no range starts inside the file (answer 416)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in Content-Range."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The byte range a ``Range`` header asks for in a file of ``size`` bytes.

    None means "send the whole file" (no header, another unit, or a malformed header, which
    RFC 9110 says to ignore). Several ranges are coalesced into the one range covering them
    (phones never ask for several; a multipart answer would only confuse players). Raises
    `Unsatisfiable` when no range overlaps the file.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    ranges: list[tuple[int, int]] = []
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        first, last = first.strip(), last.strip()
        if not dash or (first and not first.isdigit()) or (last and not last.isdigit()):
            return None
        if not first:
            if not last:
                return None
            suffix = int(last)  # bytes=-500: the last 500 bytes
            if suffix == 0:
                continue
            ranges.append((max(0, size - suffix), size - 1))
            continue
        start = int(first)
        end = int(last) if last else size - 1
        if last and end < start:
            return None
        if start >= size:
            continue
        ranges.append((start, min(end, size - 1)))
    if not ranges:
        raise Unsatisfiable
    return ByteRange(min(a for a, _ in ranges), max(b for _, b in ranges))


def _etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        tag = candidate.strip()
        if weak and tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def _if_range_holds(header: str, etag: str, modified: dt.datetime) -> bool:
    """If-Range: the client's copy is current, so a partial answer may be sent."""
    value = header.strip()
    if value.startswith('"') or value.startswith("W/"):
        return value == etag  # strong comparison only
    try:
        since = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return modified.replace(microsecond=0) <= since


def media_response(
    storage: Storage,
    key: str,
    *,
    etag_seed: str,
    accel_prefix: str | None = None,
    download_name: str | None = None,
) -> Response:
    """Answer a GET/HEAD for the stored object ``key``.

    ``etag_seed`` names the content (lesson media keys carry its SHA-256), so the ETag needs no
    hashing per request.
    """
    info = storage.info(key)
    size = info.size
    etag = f'"{etag_seed[:40]}-{size:x}"'
    modified = dt.datetime.fromtimestamp(int(info.mtime), dt.UTC)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
    }
    if download_name:
        headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    mimetype = mime_type(key)

    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and _etag_matches(if_none_match, etag, weak=True):
        return Response(status=304, headers=headers)
    if if_none_match is None and request.headers.get("If-Modified-Since"):
        try:
            since = parsedate_to_datetime(request.headers["If-Modified-Since"])
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            if modified <= since:
                return Response(status=304, headers=headers)
        except (TypeError, ValueError):
            pass

    if accel_prefix:
        # nginx serves the file (ranges, conditionals and all) from its internal location.
        headers["X-Accel-Redirect"] = accel_prefix.rstrip("/") + "/" + key
        headers["X-Accel-Buffering"] = "yes"
        response = Response(status=200, headers=headers, content_type=mimetype)
        return response

    byte_range: ByteRange | None = None
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and (if_range is None or _if_range_holds(if_range, etag, modified)):
        try:
            byte_range = parse_range(range_header, size)
        except Unsatisfiable:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(status=416, headers=headers)

    if byte_range is None:
        start, length, status = 0, size, 200
    else:
        start, length, status = byte_range.start, byte_range.length, 206
        headers["Content-Range"] = byte_range.content_range(size)
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        body: object = []  # an iterable, so the explicit Content-Length stays
    else:
        body = iter_range(storage.open(key), start, length)
    response = Response(body, status=status, headers=headers, content_type=mimetype,  # type: ignore[arg-type]
                        direct_passthrough=True)
    return response
