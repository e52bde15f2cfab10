"""Reading uploaded tabular files safely: size limits, zip-bomb checks, encodings."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

XLSX_MAX_ENTRIES = 1000
XLSX_MAX_UNCOMPRESSED = 100 * 1024 * 1024
XLSX_MAX_RATIO = 200


class UploadError(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


def looks_like_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def check_xlsx(data: bytes) -> None:
    """Refuse archives that would expand far beyond their size before any parser opens them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadError(_l("This is not a readable XLSX file.")) from None
    if len(infos) > XLSX_MAX_ENTRIES:
        raise UploadError(_l("This XLSX file has too many parts to be a spreadsheet."))
    total = sum(i.file_size for i in infos)
    compressed = max(1, sum(i.compress_size for i in infos))
    if total > XLSX_MAX_UNCOMPRESSED or total / compressed > XLSX_MAX_RATIO:
        raise UploadError(_l("This XLSX file expands to far more data than a spreadsheet holds."))
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        raise UploadError(_l("This is not a readable XLSX file."))


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


def read_table(data: bytes, filename: str, max_rows: int = 50_000) -> Table:
    """Read a CSV or the first sheet of an XLSX into strings. Row 1 is the header."""
    if looks_like_xlsx(data) or filename.lower().endswith(".xlsx"):
        return _read_xlsx(data, max_rows)
    return _read_csv(data, max_rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    check_xlsx(data)
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        header = [_cell(v) for v in next(rows_iter, ())]
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(rows_iter, start=2):
            cells = [_cell(v) for v in values]
            if any(cells):
                rows.append((number, cells))
            if len(rows) > max_rows:
                raise UploadError(_l("The file has more than %(n)s rows.", n=max_rows))
        book.close()
    except UploadError:
        raise
    except Exception:  # openpyxl raises many types on damaged files
        raise UploadError(_l("This is not a readable XLSX file.")) from None
    return Table(header, rows)


def _read_csv(data: bytes, max_rows: int) -> Table:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    try:
        reader = csv.reader(io.StringIO(text), dialect)
        header = [c.strip() for c in next(reader, [])]
        rows = []
        for number, cells in enumerate(reader, start=2):
            cells = [c.strip() for c in cells]
            if any(cells):
                rows.append((number, cells))
            if len(rows) > max_rows:
                raise UploadError(_l("The file has more than %(n)s rows.", n=max_rows))
    except csv.Error:
        raise UploadError(_l("This CSV file is damaged (unbalanced quotes?).")) from None
    return Table(header, rows)


def map_columns(header: list[str], aliases: dict[str, set[str]]) -> dict[str, int]:
    """Column index per field, matching Chinese or English headers case-insensitively."""
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower().replace(" ", "_")
        for field_name, names in aliases.items():
            if key in names and field_name not in positions:
                positions[field_name] = index
    return positions
