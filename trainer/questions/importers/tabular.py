"""Importers for the spreadsheet template: XLSX (openpyxl) and CSV.

The header row is the first row that is not blank. Row numbers in errors are the rows a
person sees in Excel (for CSV, the record number, the header being row 1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _

from trainer.questions.import_result import Location, ParseResult
from trainer.questions.importers.limits import DEFAULT_LIMITS, ImportLimits, check_xlsx_archive
from trainer.questions.importers.textfile import NotText, decode_text
from trainer.questions.spreadsheet import (
    OPTION_COLUMNS,
    REQUIRED_COLUMNS,
    header_column,
    normalise_category,
    parse_difficulty,
)
from trainer.questions.text import clean_text
from trainer.questions.types import (
    AnswerTextError,
    QuestionContent,
    option_field,
    option_letter,
    type_for_alias,
)
from trainer.xlsx_reader import XlsxUnreadable, read_first_sheet

# Columns read from an XLSX sheet; the template has 13, extra columns are ignored.
MAX_COLUMNS = 40
_FORMULA_STARTS = ("=", "+", "-", "@")


_UNREADABLE_REASONS = {
    "not-workbook": _("This is a zip file but not an Excel workbook (.xlsx)."),
    "no-sheet": _("The workbook has no worksheet."),
    "dtd": _("The workbook contains XML declarations (DTD) that are not allowed."),
}


def parse_xlsx(data: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS) -> ParseResult:
    result = ParseResult(filename=filename, format="xlsx")
    problem = check_xlsx_archive(data, limits)
    if problem is not None:
        result.error(None, "file", problem)
        return result
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _read_rows(read_first_sheet(archive, MAX_COLUMNS), result, limits)
    except XlsxUnreadable as exc:
        result.error(
            None,
            "file",
            _UNREADABLE_REASONS.get(
                exc.kind,
                _("The workbook is damaged or incomplete; open it in Excel and save it again."),
            ),
        )
    return result


def parse_csv(data: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS) -> ParseResult:
    result = ParseResult(filename=filename, format="csv")
    try:
        text = decode_text(data)
    except NotText as exc:
        result.error(None, "file", exc.reason)
        return result
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = (
        (number, [_unprotect(cell) for cell in record])
        for number, record in enumerate(reader, start=1)
    )
    try:
        _read_rows(rows, result, limits)
    except csv.Error as exc:
        result.error(
            Location("line", reader.line_num),
            "file",
            _("The CSV file is malformed (%(detail)s).", detail=str(exc)),
        )
    return result


def _unprotect(cell: str) -> str:
    """Undo the quote our CSV export puts before cells that Excel would run as formulas."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in (*_FORMULA_STARTS, "'"):
        return cell[1:]
    return cell


def _read_rows(
    rows: Iterable[tuple[int, Sequence[str]]], result: ParseResult, limits: ImportLimits
) -> None:
    """Read (row number, cells) pairs: the first non-blank row is the header."""
    columns: dict[str, int] | None = None
    seen = 0
    for scanned, (row_number, row) in enumerate(rows, start=1):
        if scanned > limits.max_sheet_rows:
            result.error(
                Location("row", row_number),
                "file",
                _(
                    "The sheet has more than %(limit)s rows, counting blank ones; delete the "
                    "unused rows or split the file.",
                    limit=limits.max_sheet_rows,
                ),
            )
            return
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = _read_header(row, row_number, result)
            if columns is None:
                return
            continue
        seen += 1
        if seen > limits.max_questions:
            result.error(
                Location("row", row_number),
                "file",
                _(
                    "The file has more than %(limit)s questions; split it into smaller files.",
                    limit=limits.max_questions,
                ),
            )
            return
        _read_question_row(row, row_number, columns, result)
    if columns is None:
        result.error(None, "file", _("The file has no header row and no questions."))


def _read_header(row: Sequence[str], row_number: int, result: ParseResult) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    where = Location("row", row_number)
    for index, cell in enumerate(row):
        if not cell.strip():
            continue
        column = header_column(cell)
        if column is None:
            result.warn(
                where, "header", _("Column “%(header)s” is not used and was ignored.", header=cell)
            )
        elif column in columns:
            result.error(where, "header", _("Column “%(header)s” appears twice.", header=cell))
        else:
            columns[column] = index
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        result.error(
            where,
            "header",
            _(
                "The header row must have the columns 题型/type, 题干/stem and 答案/answer "
                "(missing: %(missing)s). Download the template to see the layout.",
                missing=", ".join(missing),
            ),
        )
        return None
    if result.errors:
        return None
    return columns


def _read_question_row(
    row: Sequence[str], row_number: int, columns: dict[str, int], result: ParseResult
) -> None:
    where = Location("row", row_number)

    def cell(column: str) -> str:
        index = columns.get(column)
        if index is None or index >= len(row):
            return ""
        return row[index]

    errors_before = len(result.errors)
    type_cell = cell("type").strip()
    question_type = type_for_alias(type_cell)
    if question_type is None:
        if type_cell:
            reason = _(
                "Unknown question type “%(value)s”; use 单选题, 多选题 or 判断题.", value=type_cell
            )
        else:
            reason = _("The question type is empty; use 单选题, 多选题 or 判断题.")
        result.error(where, "type", reason)

    options = [clean_text(cell(column)) for column in OPTION_COLUMNS]
    while options and not options[-1]:
        options.pop()
    for index, option in enumerate(options):
        if not option:
            result.error(
                where,
                option_field(index),
                _(
                    "Option %(letter)s is empty but a later option is filled; fill options "
                    "from A without gaps.",
                    letter=option_letter(index),
                ),
            )

    difficulty = parse_difficulty(cell("difficulty"))
    if difficulty is None:
        result.error(
            where,
            "difficulty",
            _(
                "Unknown difficulty “%(value)s”; use 易/中/难 (easy/medium/hard or 1/2/3).",
                value=cell("difficulty").strip(),
            ),
        )

    if question_type is None or difficulty is None or len(result.errors) > errors_before:
        return
    try:
        answer = question_type.parse_answer_text(cell("answer"), len(options))
    except AnswerTextError as exc:
        result.error(where, "answer", exc.reason)
        return
    content = QuestionContent(
        type=question_type.key,
        stem=clean_text(cell("stem")),
        options=options,
        answer=answer,
        explanation=clean_text(cell("explanation")),
        category=normalise_category(cell("category")),
        difficulty=difficulty,
    )
    result.add_question(content, where)
