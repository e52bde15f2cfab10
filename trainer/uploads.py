"""Reading uploaded tabular files safely: size limits, zip-bomb checks, encodings.

One archive check for every XLSX upload (users, questions): :func:`check_xlsx_archive` runs
before any XML in the archive is parsed. It refuses too many parts, a declared size over the
limit, parts compressed suspiciously well (a zip bomb), encrypted parts, and any ``<!DOCTYPE``
or ``<!ENTITY`` in an XML part (OOXML parts never carry a DTD), while streaming every XML part
to count its real decompressed bytes. Python's zipfile never inflates an entry past the size its
header declares (it stops and fails the CRC check), so declared sizes bound the work and a
header that lies is reported as a damaged file. The sheet is then read by
:mod:`trainer.xlsx_reader` (defusedxml's expat, streaming, at most ``max_columns`` columns).

Row limits count every row looked at, blank ones included: a sheet of a million formatted but
empty rows costs as much to read as a million filled ones.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from trainer.xlsx_reader import XlsxTooWide, XlsxUnreadable, read_first_sheet

MIB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 1_000
    max_uncompressed_bytes: int = 100 * MIB
    # Only parts bigger than ratio_min_bytes are held to the ratio: small XML parts of a normal
    # workbook compress very well and are harmless.
    max_ratio: float = 200.0
    ratio_min_bytes: int = 1 * MIB


DEFAULT_ARCHIVE_LIMITS = ArchiveLimits()
# Columns read from a tabular upload; the user file has 7, a few spare ones are ignored.
MAX_COLUMNS = 40

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_FORBIDDEN_MARKUP = (b"<!doctype", b"<!entity")


class UploadError(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


def looks_like_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def check_xlsx_archive(
    data: bytes, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS
) -> LazyString | None:
    """Check an XLSX (zip) archive before any XML in it is parsed. None when it is safe."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > limits.max_entries:
                return _l(
                    "The workbook has %(count)s parts; at most %(limit)s are accepted.",
                    count=len(entries),
                    limit=limits.max_entries,
                )
            names = {entry.filename for entry in entries}
            if "xl/workbook.xml" not in names:
                return _l("This is a zip file but not an Excel workbook (.xlsx).")
            declared = sum(entry.file_size for entry in entries)
            if declared > limits.max_uncompressed_bytes:
                return _too_big(limits)
            for entry in entries:
                if entry.flag_bits & 0x1:
                    return _l("The workbook is password-protected; save it without a password.")
                if (
                    entry.file_size > limits.ratio_min_bytes
                    and entry.file_size / max(entry.compress_size, 1) > limits.max_ratio
                ):
                    return _l("The workbook is compressed suspiciously well (a zip bomb?).")
            total = 0
            for entry in entries:
                if not entry.filename.lower().endswith(_XML_SUFFIXES):
                    continue
                try:
                    total += _scan_xml_part(archive, entry, limits.max_uncompressed_bytes - total)
                except _TooBig:
                    return _too_big(limits)
                except _HasDTD:
                    return _l("The workbook contains XML declarations (DTD) that are not allowed.")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError):
        return _l("The workbook is damaged or incomplete; open it in Excel and save it again.")
    except NotImplementedError:
        return _l("The workbook uses a zip compression method that is not supported.")
    return None


def _too_big(limits: ArchiveLimits) -> LazyString:
    return _l(
        "The workbook expands to more than %(limit)s MB; split it into smaller files.",
        limit=f"{limits.max_uncompressed_bytes / MIB:g}",
    )


class _TooBig(Exception):
    pass


class _HasDTD(Exception):
    pass


def _scan_xml_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: int) -> int:
    """Decompress one XML part, counting real bytes and looking for DTD markup."""
    size = 0
    tail = b""
    with archive.open(entry) as part:
        while True:
            chunk = part.read(256 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > budget:
                raise _TooBig
            window = (tail + chunk).lower()
            if any(marker in window for marker in _FORBIDDEN_MARKUP):
                raise _HasDTD
            tail = window[-16:]
    return size


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK), else a clear error."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise UploadError(_l("The file is not text in UTF-8 or GBK; save it as CSV (UTF-8) and retry."))


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the user sees it, cells)


def read_table(data: bytes, filename: str, max_rows: int = 50_000,
               max_columns: int = MAX_COLUMNS) -> Table:
    """Read a CSV or the first sheet of an XLSX into strings.

    The first non-blank row is the header. ``max_rows`` counts every row after the header,
    blank ones included; a row with data beyond ``max_columns`` columns is refused.
    """
    if not data.strip():
        raise UploadError(_l("The file is empty."))
    if looks_like_xlsx(data) or filename.lower().endswith(".xlsx"):
        return _table(_xlsx_rows(data, max_columns), max_rows, max_columns)
    return _csv_table(data, max_rows, max_columns)


_UNREADABLE = {
    "not-workbook": _l("This is a zip file but not an Excel workbook (.xlsx)."),
    "no-sheet": _l("The workbook has no worksheet."),
    "dtd": _l("The workbook contains XML declarations (DTD) that are not allowed."),
}


def _xlsx_rows(data: bytes, max_columns: int) -> Iterator[tuple[int, list[str]]]:
    """Rows streamed from the first sheet; data beyond ``max_columns`` is refused."""
    problem = check_xlsx_archive(data)
    if problem is not None:
        raise UploadError(problem)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for number, cells in read_first_sheet(archive, max_columns, refuse_wider=True):
                yield number, [c.strip() for c in cells]
    except XlsxTooWide as exc:
        raise UploadError(_too_wide(exc.row, max_columns)) from None
    except XlsxUnreadable as exc:
        raise UploadError(_UNREADABLE.get(exc.kind, _l(
            "The workbook is damaged or incomplete; open it in Excel and save it again."))
        ) from None


def _too_wide(row: int, max_columns: int) -> LazyString:
    return _l("Row %(row)s has data beyond column %(n)s; delete the extra columns.",
              row=row, n=max_columns)


def _too_many_rows(max_rows: int) -> UploadError:
    return UploadError(_l(
        "The file has more than %(n)s rows, counting blank ones; delete the unused rows or "
        "split the file.", n=max_rows))


def _table(rows: Iterable[tuple[int, list[str]]], max_rows: int, max_columns: int) -> Table:
    header: list[str] | None = None
    found: list[tuple[int, list[str]]] = []
    scanned = 0
    for number, cells in rows:
        if header is not None:
            scanned += 1  # blank rows count too
            if scanned > max_rows:
                raise _too_many_rows(max_rows)
        if any(cells[max_columns:]):
            raise UploadError(_too_wide(number, max_columns))
        cells = cells[:max_columns]
        if not any(cells):
            continue
        if header is None:
            header = cells
        else:
            found.append((number, cells))
    if header is None:
        raise UploadError(_l("The file is empty."))
    return Table(header, found)


def _csv_table(data: bytes, max_rows: int, max_columns: int) -> Table:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    try:
        # strict: an unbalanced quote is an error, not a cell swallowing the rest of the file
        reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
        return _table(((number, [c.strip() for c in cells])
                       for number, cells in enumerate(reader, start=1)), max_rows, max_columns)
    except csv.Error:
        raise UploadError(_l("This CSV file is damaged (unbalanced quotes?).")) from None


def map_columns(header: list[str], aliases: dict[str, set[str]]) -> dict[str, int]:
    """Column index per field, matching Chinese or English headers case-insensitively."""
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower().replace(" ", "_")
        for field_name, names in aliases.items():
            if key in names and field_name not in positions:
                positions[field_name] = index
    return positions
