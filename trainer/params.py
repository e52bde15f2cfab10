"""Request input that must never reach the database unchecked: ids in URLs, page numbers,
NUL characters.

* ``<int:...>`` in every route is :class:`BoundedIntConverter`: at most 2**31-1 (PostgreSQL's
  ``integer``), so ``/x/99999999999999999999`` is a 404 rather than a database error.
* :func:`int_arg` reads ``?page=``/``?offset=``/``?limit=``: not a whole number → 400 with a
  clear message; outside the range → clamped.
* A request whose query string, form fields, JSON body or path holds a NUL character is a 400:
  PostgreSQL text cannot store it (the driver raises), and no real input contains one.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_INT = 2**31 - 1  # PostgreSQL integer; the id columns are integers
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,50}", re.ASCII)


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's int converter with a maximum (2**31-1 unless the route says otherwise)."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_INT, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def bad_request(message: str) -> BadRequest:
    """A 400 whose message is shown to the user (page or JSON error)."""
    exc = BadRequest(description=message)
    exc._trainer_message = True  # type: ignore[attr-defined]
    return exc


def int_arg(name: str, default: int, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """A whole-number query argument: missing or empty → default; not a whole number → 400;
    otherwise clamped into [minimum, maximum]."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw):
        raise bad_request(_("The %(name)s parameter must be a whole number.", name=name))
    return min(max(int(raw), minimum), maximum)


def page_arg(name: str = "page", maximum: int = 100_000) -> int:
    """A 1-based page number (clamped to 1..maximum)."""
    return int_arg(name, 1, 1, maximum)


def _has_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 100:
        return False
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


def refuse_nul_characters() -> None:
    """before_request: 400 when any text the request carries holds a NUL character."""
    found = "\x00" in request.path or any(
        "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True))
    if not found and request.method not in {"GET", "HEAD", "OPTIONS"}:
        if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            found = any("\x00" in key or "\x00" in value
                        for key, value in request.form.items(multi=True))
        elif request.is_json:
            found = _has_nul(request.get_json(silent=True))
    if found:
        raise bad_request(_("The request contains a NUL character (\\0), which no field may "
                            "hold. Nothing was changed; remove it and try again."))


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: routes bind their converters when added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul_characters)
