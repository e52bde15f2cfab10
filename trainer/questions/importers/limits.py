"""Limits that keep a hostile or broken upload from exhausting memory or CPU.

XML safety, in one place:

* Moodle XML is parsed with ``defusedxml`` with DTDs forbidden, so entity expansion
  (billion laughs), external entities and external DTDs are refused before they are read.
* XLSX uploads are read by ``trainer.xlsx_reader`` with defusedxml's SAX parser and
  ElementTree, not by openpyxl. Before that, ``trainer.uploads.check_xlsx_archive`` (shared
  with the users import; :func:`check_xlsx_archive` passes it these limits) streams every XML
  part of the archive and rejects any ``<!DOCTYPE`` or ``<!ENTITY`` (OOXML parts never carry
  a DTD); the same pass counts the real decompressed bytes. Python's zipfile never inflates an
  entry past the size its header declares (it stops and fails the CRC check), so declared
  sizes bound the work and a header that lies is reported as a damaged file.
* openpyxl only writes exports here. For the record, openpyxl 3.1.5 parses with defusedxml
  when defusedxml is installed and the environment variable ``OPENPYXL_DEFUSEDXML`` is unset
  or ``True`` (``openpyxl/xml/__init__.py``, ``openpyxl/xml/functions.py``); it then refuses a
  billion-laughs workbook too, but through the pure-Python parser it took 6.3 s for 10,000
  rows, which is why uploads do not go through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _

from trainer import uploads

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
    """Check an XLSX (zip) archive before any XML in it is parsed. None when it is safe.

    The one check every upload shares (trainer/uploads.py), with the question limits.
    """
    return uploads.check_xlsx_archive(data, uploads.ArchiveLimits(
        max_entries=limits.max_zip_entries,
        max_uncompressed_bytes=limits.max_uncompressed_bytes,
        max_ratio=limits.max_compression_ratio,
        ratio_min_bytes=limits.ratio_check_min_bytes,
    ))
