"""Question-bank importers, and ``parse``: the one entry point that never raises for bad input.

Formats (keys of ``IMPORTERS``): ``xlsx``, ``csv`` (the spreadsheet template), ``gift``,
``aiken``, ``moodle-xml`` and ``json``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection

from flask_babel import lazy_gettext as _

from trainer.questions.duplicates import find_duplicates
from trainer.questions.import_result import (
    Duplicate,
    ImportIssue,
    Location,
    ParsedQuestion,
    ParseResult,
    UnsupportedQuestion,
)
from trainer.questions.importers.aiken import parse_aiken
from trainer.questions.importers.gift import parse_gift
from trainer.questions.importers.json_format import parse_json
from trainer.questions.importers.limits import DEFAULT_LIMITS, ImportLimits, check_upload_size
from trainer.questions.importers.moodle_xml import parse_moodle_xml
from trainer.questions.importers.tabular import parse_csv, parse_xlsx
from trainer.questions.spreadsheet import header_column

__all__ = [
    "IMPORTERS",
    "Duplicate",
    "ImportIssue",
    "ImportLimits",
    "Location",
    "ParseResult",
    "ParsedQuestion",
    "UnsupportedQuestion",
    "detect_format",
    "parse",
]

log = logging.getLogger(__name__)

Importer = Callable[[bytes, str, ImportLimits], ParseResult]

IMPORTERS: dict[str, Importer] = {
    "xlsx": parse_xlsx,
    "csv": parse_csv,
    "gift": parse_gift,
    "aiken": parse_aiken,
    "moodle-xml": parse_moodle_xml,
    "json": parse_json,
}

# Bytes of the file that detect_format looks at when parse() calls it.
SNIFF_BYTES = 64 * 1024

_EXTENSIONS = {
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "xls": "xls",
    "csv": "csv",
    "gift": "gift",
    "xml": "moodle-xml",
    "json": "json",
    "txt": "gift",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_JSON_START = re.compile(r"^(\[\s*[\[{\]\"\d-]|\{\s*\")")
_AIKEN_ANSWER = re.compile(r"^[ \t]*ANSWER[ \t]*[:：][ \t]*[A-Za-z]", re.MULTILINE)
_AIKEN_OPTION = re.compile(r"^[ \t]*[A-Z][).]", re.MULTILINE)
_GIFT_MARKERS = re.compile(r"^[ \t]*(::|\$CATEGORY:)|\{[^{}]*\}", re.MULTILINE)


def detect_format(filename: str, first_bytes: bytes) -> str:
    """Guess a format key from the content (the file name only breaks ties).

    Zip → ``xlsx``; OLE2 → ``xls`` (refused by ``parse`` with advice); ``<?xml``/``<quiz`` →
    ``moodle-xml``; a JSON list → ``json``; a first line of template headers → ``csv``;
    ``ANSWER:`` lines with ``A)`` options → ``aiken``; ``::title::``, ``$CATEGORY:`` or a
    ``{…}`` block → ``gift``; otherwise by extension, else ``csv``.
    """
    if first_bytes.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    if first_bytes.startswith(_OLE_MAGIC):
        return "xls"
    text = _sniff_text(first_bytes)
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("<?xml", "<quiz", "<!DOCTYPE", "<!doctype")):
        return "moodle-xml"
    if _JSON_START.match(stripped):
        return "json"
    first_line = stripped.split("\n", 1)[0]
    cells = re.split(r"[,\t;]", first_line)
    if sum(1 for cell in cells if header_column(cell.strip().strip('"'))) >= 2:
        return "csv"
    if _AIKEN_ANSWER.search(text) and _AIKEN_OPTION.search(text):
        return "aiken"
    if _GIFT_MARKERS.search(text):
        return "gift"
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _EXTENSIONS.get(extension, "csv")


def _sniff_text(first_bytes: bytes) -> str:
    # The sniff window may cut a UTF-8 character in two: try without the last 1–3 bytes.
    for cut in range(4):
        try:
            return first_bytes[: len(first_bytes) - cut].decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
    return first_bytes.decode("gb18030", errors="replace")


def parse(
    file_bytes: bytes,
    filename: str,
    format: str | None = None,  # noqa: A002 - the name callers use
    limits: ImportLimits = DEFAULT_LIMITS,
    existing_keys: Collection[str] = (),
) -> ParseResult:
    """Parse an uploaded question bank. Bad input gives errors in the result, never raises.

    ``format`` overrides detection. ``existing_keys`` are duplicate keys
    (``trainer.questions.duplicates.duplicate_key``) of questions already in the bank;
    ``result.duplicates`` lists repeats of those and repeats within the file.
    """
    chosen = format or "unknown"
    try:
        if not isinstance(file_bytes, bytes | bytearray | memoryview):
            raise TypeError("file_bytes must be bytes")
        data = bytes(file_bytes)
        too_big = check_upload_size(len(data), limits)
        if too_big is not None:
            result = ParseResult(filename=filename, format=chosen)
            result.error(None, "file", too_big)
            return result
        chosen = format or detect_format(filename, data[:SNIFF_BYTES])
        if chosen == "xls":
            result = ParseResult(filename=filename, format=chosen)
            result.error(
                None,
                "file",
                _("Old Excel files (.xls) are not supported; save the file as .xlsx."),
            )
            return result
        importer = IMPORTERS.get(chosen)
        if importer is None:
            result = ParseResult(filename=filename, format=chosen)
            result.error(None, "file", _("Unknown file format “%(format)s”.", format=chosen))
            return result
        result = importer(data, filename, limits)
        result.duplicates = find_duplicates(result.questions, existing_keys)
        return result
    except Exception:
        # A bug or a case no importer foresaw: report it to the uploader, keep the trace.
        log.exception("question import failed: %s (%s)", filename, chosen)
        result = ParseResult(filename=filename, format=chosen)
        result.error(
            None,
            "file",
            _(
                "The file could not be read. Check that it is a question file in a supported "
                "format."
            ),
        )
        return result
