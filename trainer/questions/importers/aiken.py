"""Aiken importer, following Moodle's ``qformat_aiken``.

A question is one line of text, then option lines ``A) text`` or ``A. text``, then
``ANSWER: B``. Every Aiken question is single choice. Errors mirror Moodle's messages
(“Question must have at least 2 answers on line 3”, “Question not started on line 5”,
“Question not completed before next question start on line 18”), with the line number in the
message as Moodle has it and in the error's location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _

from trainer.questions.import_result import Location, ParseResult, short_name
from trainer.questions.importers.limits import DEFAULT_LIMITS, ImportLimits
from trainer.questions.importers.textfile import NotText, decode_text
from trainer.questions.text import clean_text
from trainer.questions.types import QuestionContent

_OPTION = re.compile(r"^[A-Z][).]")
_ANSWER = re.compile(r"^ANSWER\s*[:：]", re.IGNORECASE)


@dataclass
class _Open:
    line: int
    stem: str
    options: list[str] = field(default_factory=list)


def parse_aiken(data: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS) -> ParseResult:
    result = ParseResult(filename=filename, format="aiken")
    try:
        text = decode_text(data)
    except NotText as exc:
        result.error(None, "file", exc.reason)
        return result
    question: _Open | None = None
    count = 0
    for number, raw_line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        line = raw_line.strip()
        if len(line) < 2:  # Moodle skips blank and one-character lines
            continue
        where = Location("line", number)
        if _OPTION.match(line):
            if question is None:
                result.error(
                    where, "options", _("Question not started on line %(line)s", line=number)
                )
                continue
            question.options.append(clean_text(line[2:]))
        elif _ANSWER.match(line):
            if question is None:
                result.error(
                    where, "answer", _("Question not started on line %(line)s", line=number)
                )
                continue
            _finish(question, line, number, result)
            question = None
        else:
            if question is not None:
                result.error(
                    where,
                    "answer",
                    _(
                        "Question not completed before next question start on line %(line)s",
                        line=number,
                    ),
                )
            count += 1
            if count > limits.max_questions:
                result.error(
                    where,
                    "file",
                    _(
                        "The file has more than %(limit)s questions; split it into smaller files.",
                        limit=limits.max_questions,
                    ),
                )
                return result
            question = _Open(number, clean_text(line))
    if question is not None:
        result.error(
            Location("line", question.line),
            "answer",
            _(
                "Question not completed before the end of the file on line %(line)s",
                line=question.line,
            ),
        )
    return result


def _finish(question: _Open, line: str, number: int, result: ParseResult) -> None:
    where = Location("line", number)
    if len(question.options) < 2:
        result.error(
            where,
            "options",
            _("Question must have at least 2 answers on line %(line)s", line=number),
        )
        return
    letter = line.split(":", 1)[-1].split("：", 1)[-1].strip()[:1].upper()
    index = ord(letter) - ord("A") if letter else -1
    if not 0 <= index < len(question.options):
        result.error(
            where,
            "answer",
            _(
                "The answer “%(value)s” on line %(line)s is not one of the options",
                value=letter,
                line=number,
            ),
        )
        return
    content = QuestionContent(
        type="single", stem=question.stem, options=question.options, answer=[index]
    )
    result.add_question(content, Location("line", question.line), short_name(question.stem))
