"""Spreadsheet export in the template format (XLSX and CSV), and the downloadable template.

Images cannot be carried by the template and are left out. Cells that Excel would run as a
formula are protected: XLSX cells are written as plain strings, and CSV cells that start with
``= + - @`` (or with a quote) get a leading ``'`` that the CSV importer removes again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from trainer.questions.spreadsheet import (
    COLUMNS,
    DIFFICULTY_TEXT,
    HEADERS,
    LANGUAGES,
    example_questions,
    question_row,
    type_text,
)
from trainer.questions.types import QuestionContent, question_types

_FORMULA_STARTS = ("=", "+", "-", "@")
_WIDTHS = {"type": 10, "stem": 50, "answer": 10, "explanation": 40, "category": 20, "difficulty": 8}
_DATA_ROWS = 20_000


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")


def export_xlsx(questions: Iterable[QuestionContent], language: str = "zh") -> bytes:
    _check_language(language)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "题库" if language == "zh" else "questions"
    sheet.append([HEADERS[language][column] for column in COLUMNS])
    for content in questions:
        sheet.append(question_row(content, language))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(column, 18)
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    _add_validation(sheet, language)
    _add_instructions(workbook, language)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _add_validation(sheet: object, language: str) -> None:
    types = ",".join(type_text(t.key, language) for t in question_types())
    difficulties = ",".join(DIFFICULTY_TEXT[language].values())
    for column, values in (("type", types), ("difficulty", difficulties)):
        letter = get_column_letter(COLUMNS.index(column) + 1)
        validation = DataValidation(type="list", formula1=f'"{values}"', allow_blank=True)
        validation.add(f"{letter}2:{letter}{_DATA_ROWS + 1}")
        sheet.add_data_validation(validation)  # type: ignore[attr-defined]


_INSTRUCTIONS = {
    "zh": [
        "填写说明（导入时只读取第一个工作表）",
        "每行一道题；表头可以用中文或英文。空行会被跳过。",
        "题型：单选题、多选题、判断题（也可写 单选/多选/判断 或 single/multiple/true_false）。",
        "选项：从选项A开始连续填写，最多6个（A–F）；判断题不填选项。",
        "答案：单选填一个字母，如 A；多选填多个字母，如 ABD、A,B,D 或 A、B、D。",
        "判断题答案：对/错、正确/错误、√/×、是/否、T/F 或 true/false。",
        "难度：易/中/难（也可写 简单/中等/困难、1/2/3）；不填为中等。",
        "分类：可用 / 分隔层级，如 电工作业/低压电工。",
    ],
    "en": [
        "How to fill in (only the first worksheet is imported)",
        "One question per row; headers may be Chinese or English. Blank rows are skipped.",
        "type: single, multiple or true_false (or 单选题, 多选题, 判断题).",
        "Options: fill from option_a without gaps, at most 6 (A–F); none for true_false.",
        "answer: one letter for single (A); letters for multiple (ABD, A,B,D or A、B、D).",
        "true_false answer: true/false, T/F, 对/错, 正确/错误, √/× or 是/否.",
        "difficulty: easy, medium or hard (or 1/2/3, 易/中/难); blank means medium.",
        "category: use / for levels, e.g. Electrical work/Low voltage.",
    ],
}


def _add_instructions(workbook: Workbook, language: str) -> None:
    sheet = workbook.create_sheet("说明" if language == "zh" else "instructions")
    for line in _INSTRUCTIONS[language]:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True)
    sheet.column_dimensions["A"].width = 100


def _protect(cell: str) -> str:
    # A leading quote is itself quoted, so that the importer can tell ours from the author's.
    return "'" + cell if cell.startswith((*_FORMULA_STARTS, "'")) else cell


def export_csv(questions: Iterable[QuestionContent], language: str = "zh") -> bytes:
    """CSV in UTF-8 with a BOM, so that Excel opens Chinese text correctly."""
    _check_language(language)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([HEADERS[language][column] for column in COLUMNS])
    for content in questions:
        writer.writerow([_protect(cell) for cell in question_row(content, language)])
    return out.getvalue().encode("utf-8-sig")


def make_template(format: str = "xlsx", language: str = "zh") -> bytes:  # noqa: A002
    """The downloadable template: headers in ``language`` (zh/en) and three example rows."""
    examples = example_questions(language)
    if format == "xlsx":
        return export_xlsx(examples, language)
    if format == "csv":
        return export_csv(examples, language)
    raise ValueError("template format must be xlsx or csv")


def template_filename(format: str = "xlsx", language: str = "zh") -> str:  # noqa: A002
    stem = "题库导入模板" if language == "zh" else "question_bank_template"
    return f"{stem}.{format}"
