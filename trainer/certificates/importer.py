"""Importing a certificate register (CSV or XLSX): ``trainer certificates import FILE``.

Columns (English or Chinese headers, any order; the last three optional)::

    number 证书编号 · holder_name 姓名 · id_number 身份证号 · type_code 作业类别 ·
    region_code 发证地区 · employer 单位 · issued_on 发证日期 · expires_on 有效期至 ·
    review_due_on 复审日期 · renewal_applied_on 复审申请日期

All or nothing: every row is checked first, each problem reported with its row number and
column, and nothing is written unless the whole file is clean. Importing the same file again
changes nothing (rows are matched by certificate number; changed rows are updated).

Dates: ``2020-02-10``, ``2020/2/10``, ``2020.2.10``, ``2020年2月10日``, ``20200210``, or an
Excel date serial number (the XLSX reader returns cell values without number formats).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from trainer.accounts.models import Employer, User
from trainer.accounts.rules import InvalidNationalId, nfkc, normalise_national_id
from trainer.certificates import timelines
from trainer.certificates.calendar import check_region_code
from trainer.certificates.models import Certificate, CertificateType
from trainer.certificates.timelines import DbSession
from trainer.questions.importers.limits import MIB, ImportLimits, check_xlsx_archive
from trainer.uploads import UploadError, decode_text, looks_like_xlsx
from trainer.xlsx_reader import XlsxUnreadable, read_first_sheet

COLUMNS = ("number", "holder_name", "id_number", "type_code", "region_code", "employer",
           "issued_on", "expires_on", "review_due_on", "renewal_applied_on")
REQUIRED = ("number", "holder_name", "id_number", "type_code", "region_code", "issued_on",
            "expires_on")
OPTIONAL_DATES = ("review_due_on", "renewal_applied_on")

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "number": ("证书编号", "证号", "证书号", "证书号码", "certificate number", "certificate_no"),
    "holder_name": ("姓名", "持证人", "持证人姓名", "name", "holder"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "id", "national_id"),
    "type_code": ("作业类别", "作业类别代码", "类别代码", "操作项目代码", "证书类型", "type"),
    "region_code": ("发证地区", "发证机关代码", "地区代码", "行政区划代码", "region"),
    "employer": ("单位", "工作单位", "用人单位", "单位名称", "employer_name"),
    "issued_on": ("发证日期", "初领日期", "领证日期", "issued", "issue_date"),
    "expires_on": ("有效期至", "有效期截止", "到期日期", "有效期截止日期", "expires", "expiry_date"),
    "review_due_on": ("复审日期", "应复审日期", "下次复审日期", "review_due", "review_date"),
    "renewal_applied_on": ("复审申请日期", "申请日期", "renewal_applied", "applied_on"),
}

LIMITS = ImportLimits(max_upload_bytes=200 * MIB, max_uncompressed_bytes=1024 * MIB,
                      max_sheet_rows=2_000_000)
MAX_ERRORS_LISTED = 200
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-]", "", nfkc(text).strip().lower())


_HEADER_INDEX = {_fold(column): column for column in COLUMNS}
for _column, _spellings in HEADER_ALIASES.items():
    for _spelling in _spellings:
        _HEADER_INDEX[_fold(_spelling)] = _column


@dataclass
class RowError:
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        return f"{where}, {self.column}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    def error(self, row: int | None, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append(RowError(row, column, message))

    def summary(self) -> str:
        if self.error_count:
            more = self.error_count - len(self.errors)
            extra = f" ({more} more not listed)" if more > 0 else ""
            return f"{self.error_count} errors{extra}; nothing was imported."
        return (f"created {self.created}, updated {self.updated}, "
                f"unchanged {self.unchanged}.")


def parse_date(text: str) -> dt.date:
    value = nfkc(text).strip()
    if " " in value:  # "2020-02-10 00:00:00"
        value = value.split(" ", 1)[0]
    if re.fullmatch(r"\d{4,5}(\.0+)?", value) and not re.fullmatch(r"\d{8}", value):
        serial = int(float(value))
        if 1 <= serial < 2958466:
            return _EXCEL_EPOCH + dt.timedelta(days=serial)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(value)
        if match:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    raise ValueError(value)


def read_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of a CSV or the first sheet of an XLSX. Raises UploadError."""
    if looks_like_xlsx(data) or filename.lower().endswith(".xlsx"):
        problem = check_xlsx_archive(data, LIMITS)
        if problem is not None:
            raise UploadError(problem)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                yield from read_first_sheet(archive, 40)
        except XlsxUnreadable as exc:
            raise UploadError(f"the workbook cannot be read ({exc.kind})") from None
        return
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        yield from enumerate(csv.reader(io.StringIO(text, newline=""),
                                                  delimiter=delimiter), start=1)
    except csv.Error:
        raise UploadError("the CSV file is damaged (unbalanced quotes?)") from None


@dataclass
class _Row:
    number: int
    values: dict[str, Any]


def import_register(session: DbSession, data: bytes, filename: str) -> ImportResult:
    """Check every row, then write all of them (or none). Flushes; the caller commits."""
    result = ImportResult()
    try:
        parsed = _check_rows(session, read_rows(data, filename), result)
    except UploadError as exc:
        result.error(None, "file", str(exc.message))
        return result
    if result.error_count:
        return result
    _write(session, parsed, result)
    return result


def _check_rows(
    session: DbSession, rows: Iterable[tuple[int, Sequence[str]]], result: ImportResult
) -> list[_Row]:
    positions: dict[str, int] | None = None
    types = set(session.scalars(sa.select(CertificateType.code)))
    employers: dict[str, int] = {}
    for employer_id, name, credit_code in session.execute(
        sa.select(Employer.id, Employer.name, Employer.credit_code)
    ):
        employers[_fold(name)] = employer_id
        if credit_code:
            employers[_fold(credit_code)] = employer_id
    seen: dict[str, int] = {}
    parsed: list[_Row] = []
    for row_number, cells in rows:
        cells = [cell.strip() if isinstance(cell, str) else "" for cell in cells]
        if not any(cells):
            continue
        if positions is None:
            positions = _header(cells, row_number, result)
            if positions is None:
                return []
            continue
        parsed_row = _check_row(row_number, cells, positions, types, employers, result)
        if parsed_row is None:
            continue
        number = parsed_row.values["number"]
        if number in seen:
            result.error(row_number, "number",
                         f"certificate {number} appears twice (also row {seen[number]})")
            continue
        seen[number] = row_number
        parsed.append(parsed_row)
    if positions is None:
        result.error(None, "file", "the file is empty (no header row)")
    return parsed


def _header(cells: list[str], row_number: int, result: ImportResult) -> dict[str, int] | None:
    positions: dict[str, int] = {}
    for index, title in enumerate(cells):
        column = _HEADER_INDEX.get(_fold(title))
        if column is not None and column not in positions:
            positions[column] = index
    missing = [column for column in REQUIRED if column not in positions]
    if missing:
        result.error(row_number, "header",
                     "missing column(s): " + ", ".join(missing)
                     + " (expected: " + ", ".join(COLUMNS) + ")")
        return None
    return positions


def _check_row(
    row_number: int,
    cells: list[str],
    positions: dict[str, int],
    types: set[str],
    employers: dict[str, int],
    result: ImportResult,
) -> _Row | None:
    def cell(column: str) -> str:
        index = positions.get(column)
        if index is None or index >= len(cells):
            return ""
        return nfkc(cells[index]).strip()

    errors_before = result.error_count
    values: dict[str, Any] = {}
    for column in REQUIRED:
        if not cell(column):
            result.error(row_number, column, "is required")
    number = cell("number")
    if number and len(number) > 40:
        result.error(row_number, "number", "is longer than 40 characters")
    values["number"] = number
    name = cell("holder_name")
    if len(name) > 100:
        result.error(row_number, "holder_name", "is longer than 100 characters")
    values["holder_name"] = name
    if cell("id_number"):
        try:
            values["id_number"] = normalise_national_id(cell("id_number"))
        except InvalidNationalId as exc:
            reasons = {"length": "must have 18 characters",
                       "characters": "must be 17 digits and a digit or X",
                       "birth_date": "contains an impossible birth date",
                       "checksum": "the check character is wrong"}
            result.error(row_number, "id_number", reasons.get(exc.reason, exc.reason))
    type_code = cell("type_code")
    if type_code and type_code not in types:
        result.error(row_number, "type_code",
                     f"{type_code!r} is not in the certificate catalogue")
    values["type_code"] = type_code
    region = cell("region_code")
    if region:
        try:
            values["region_code"] = check_region_code(region)
        except ValueError:
            result.error(row_number, "region_code",
                         f"{region!r} is not a 6-digit region code (e.g. 340104)")
    employer = cell("employer")
    values["employer_id"] = None
    if employer:
        employer_id = employers.get(_fold(employer))
        if employer_id is None:
            result.error(row_number, "employer", f"no employer is called {employer!r}")
        values["employer_id"] = employer_id
    for column in ("issued_on", "expires_on", *OPTIONAL_DATES):
        text = cell(column)
        values[column] = None
        if not text:
            continue
        try:
            values[column] = parse_date(text)
        except ValueError:
            result.error(row_number, column, f"{text!r} is not a date (use YYYY-MM-DD)")
    issued, expires = values.get("issued_on"), values.get("expires_on")
    if issued and expires and expires < issued:
        result.error(row_number, "expires_on", "is before issued_on")
    review = values.get("review_due_on")
    if issued and review and review < issued:
        result.error(row_number, "review_due_on", "is before issued_on")
    if result.error_count > errors_before:
        return None
    return _Row(row_number, values)


_COMPARED = ("holder_name", "id_number", "type_code", "region_code", "employer_id",
             "issued_on", "expires_on", "review_due_on", "renewal_applied_on")


def _write(session: DbSession, rows: list[_Row], result: ImportResult) -> None:
    context = timelines.load_context(session)
    holders: dict[str, int] = {}
    ids = {row.values["id_number"] for row in rows}
    id_list = list(ids)
    for start in range(0, len(id_list), 1000):
        for user_id, national_id in session.execute(
            sa.select(User.id, User.national_id).where(
                User.national_id.in_(id_list[start:start + 1000]))
        ):
            if national_id:
                holders[national_id] = user_id
    numbers = [row.values["number"] for row in rows]
    existing: dict[str, Certificate] = {}
    for start in range(0, len(numbers), 1000):
        for cert in session.scalars(
            sa.select(Certificate).where(Certificate.number.in_(numbers[start:start + 1000]))
        ):
            existing[cert.number] = cert
    for index, row in enumerate(rows, start=1):
        values = row.values
        found = existing.get(values["number"])
        if found is None:
            cert = Certificate(source="import", review_extended=False, superseded=False,
                               **values)
            cert.holder_user_id = holders.get(values["id_number"])
            timelines.apply(cert, context)
            session.add(cert)
            result.created += 1
        elif any(getattr(found, key) != values[key] for key in _COMPARED):
            for key in _COMPARED:
                setattr(found, key, values[key])
            if found.holder_user_id is None:
                found.holder_user_id = holders.get(values["id_number"])
            timelines.apply(found, context)
            result.updated += 1
        else:
            result.unchanged += 1
        if index % 5000 == 0:
            session.flush()
    session.flush()
