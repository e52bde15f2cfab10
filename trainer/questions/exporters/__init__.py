"""Question-bank exporters. ``export_questions(questions, format)`` returns the file's bytes.

Formats: ``json``, ``xlsx``, ``csv`` (the spreadsheet template), ``gift``, ``moodle-xml``.
Only JSON and Moodle XML carry images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from trainer.questions.exporters.gift import export_gift
from trainer.questions.exporters.json_format import export_json
from trainer.questions.exporters.moodle_xml import export_moodle_xml
from trainer.questions.exporters.spreadsheet import (
    export_csv,
    export_xlsx,
    make_template,
    template_filename,
)
from trainer.questions.types import QuestionContent, validate

__all__ = [
    "EXPORTERS",
    "MEDIA_TYPES",
    "export_questions",
    "make_template",
    "template_filename",
]

EXPORTERS: dict[str, Callable[[Iterable[QuestionContent]], bytes]] = {
    "json": export_json,
    "xlsx": export_xlsx,
    "csv": export_csv,
    "gift": export_gift,
    "moodle-xml": export_moodle_xml,
}

MEDIA_TYPES = {
    "json": ("application/json", "json"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "gift": ("text/plain; charset=utf-8", "gift.txt"),
    "moodle-xml": ("application/xml", "xml"),
}


def export_questions(questions: Iterable[QuestionContent], format: str) -> bytes:  # noqa: A002
    """Export valid questions; raises ValueError for an unknown format or invalid content."""
    exporter = EXPORTERS.get(format)
    if exporter is None:
        raise ValueError(f"unknown export format {format!r}")
    questions = list(questions)
    for number, content in enumerate(questions, start=1):
        problems = validate(content)
        if problems:
            details = "; ".join(f"{p.field}: {p.reason}" for p in problems)
            raise ValueError(f"question {number} is not valid: {details}")
    return exporter(questions)
