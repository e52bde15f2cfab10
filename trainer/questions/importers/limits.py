"""Limits that keep a hostile or broken upload from exhausting memory or CPU.

XML safety, in one place:

* Moodle XML is parsed with ``defusedxml`` with DTDs forbidden, so entity expansion
  (billion laughs), external entities and external DTDs are refused before they are read.
* XLSX uploads are read by ``xlsx_reader`` with defusedxml's SAX parser and ElementTree, not
  by openpyxl. Before that, :func:`check_xlsx_archive` streams every XML part of the archive
  and rejects any ``<!DOCTYPE`` or ``<!ENTITY`` (OOXML parts never carry a DTD); the same pass
  counts the real decompressed bytes. Python's zipfile never inflates an entry past the size
  its header declares (it stops and fails the CRC check), so declared sizes bound the work and
  a header that lies is reported as a damaged file.
* openpyxl only writes exports here. For the record, openpyxl 3.1.5 parses with defusedxml
  when defusedxml is installed and the environment variable ``OPENPYXL_DEFUSEDXML`` is unset
  or ``True`` (``openpyxl/xml/__init__.py``, ``openpyxl/xml/functions.py``); it then refuses a
  billion-laughs workbook too, but through the pure-Python parser it took 6.3 s for 10,000
  rows, which is why uploads do not go through it.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _

MIB = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    max_upload_bytes: int = 10 * MIB
    # Rows of a spreadsheet or question blocks of a text file, including unsupported ones.
    max_questions: int = 20_000
    # Rows of a sheet or CSV records looked at, blank ones included (formatted empty rows).
    max_sheet_rows: int = 200_000
    max_zip_entries: int = 1_000
    max_uncompressed_bytes: int = 100 * MIB
    # Only parts bigger than ratio_check_min_bytes are held to the ratio: small XML parts
    # of a normal workbook compress very well and are harmless.
    max_compression_ratio: float = 200.0
    ratio_check_min_bytes: int = 1 * MIB
    # Embedded images (Moodle XML): encoded size, decoded pixel count, longest side kept.
    max_image_bytes: int = 5 * MIB
    max_image_pixels: int = 40_000_000
    max_image_side: int = 1600


DEFAULT_LIMITS = ImportLimits()

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_FORBIDDEN_MARKUP = (b"<!doctype", b"<!entity")


def check_upload_size(size: int, limits: ImportLimits = DEFAULT_LIMITS) -> LazyString | None:
    if size > limits.max_upload_bytes:
        return _(
            "The file is %(size)s MB; the largest file accepted is %(limit)s MB.",
            size=f"{size / MIB:.1f}",
            limit=f"{limits.max_upload_bytes / MIB:g}",
        )
    if size == 0:
        return _("The file is empty.")
    return None


def check_xlsx_archive(data: bytes, limits: ImportLimits = DEFAULT_LIMITS) -> LazyString | None:
    """Check an XLSX (zip) archive before any XML in it is parsed. None when it is safe."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > limits.max_zip_entries:
                return _(
                    "The workbook has %(count)s parts; at most %(limit)s are accepted.",
                    count=len(entries),
                    limit=limits.max_zip_entries,
                )
            names = {entry.filename for entry in entries}
            if "xl/workbook.xml" not in names:
                return _("This is a zip file but not an Excel workbook (.xlsx).")
            declared = sum(entry.file_size for entry in entries)
            if declared > limits.max_uncompressed_bytes:
                return _too_big(limits)
            for entry in entries:
                if entry.flag_bits & 0x1:
                    return _("The workbook is password-protected; save it without a password.")
                if (
                    entry.file_size > limits.ratio_check_min_bytes
                    and entry.file_size / max(entry.compress_size, 1) > limits.max_compression_ratio
                ):
                    return _("The workbook is compressed suspiciously well (a zip bomb?).")
            total = 0
            for entry in entries:
                if not entry.filename.lower().endswith(_XML_SUFFIXES):
                    continue
                try:
                    total += _scan_xml_part(archive, entry, limits.max_uncompressed_bytes - total)
                except _TooBig:
                    return _too_big(limits)
                except _HasDTD:
                    return _("The workbook contains XML declarations (DTD) that are not allowed.")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError):
        return _("The workbook is damaged or incomplete; open it in Excel and save it again.")
    except NotImplementedError:
        return _("The workbook uses a zip compression method that is not supported.")
    return None


def _too_big(limits: ImportLimits) -> LazyString:
    return _(
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
