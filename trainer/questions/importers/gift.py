"""GIFT importer, following Moodle's ``qformat_gift`` rules.

* Questions are separated by blank lines; ``//`` lines are comments.
* ``$CATEGORY: path`` sets the category of the questions that follow.
* ``::title::`` names a question; ``[html]``/``[moodle]``/``[plain]``/``[markdown]`` before a
  text gives its format (HTML is reduced to plain text for ``html`` and ``moodle``).
* ``\\~ \\= \\# \\{ \\} \\: \\\\`` are escapes; ``\\n`` is a line break.
* In the answer block: ``####`` starts the general feedback (imported as the explanation),
  ``#`` an answer's feedback (dropped), ``%50%`` a weight.
* Types, decided as Moodle does: empty block → essay; ``#…`` → numerical; any ``~`` →
  multiple choice (single answer when an ``=`` answer exists, multiple answer otherwise);
  ``=`` with ``->`` → matching; ``T``/``TRUE``/``F``/``FALSE`` → true/false (letter case is
  ignored here, Moodle is stricter); anything else → short answer. No block → description.
  Only single, multiple and true/false are imported; the others are reported as unsupported.
* A choice block in mid-sentence (“missing word”) is imported as single/multiple choice with
  ``_____`` where the block was, as Moodle does.

Trainer's own export adds ``// difficulty: hard`` comments, which are read back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _

from trainer.questions.html_text import html_to_text
from trainer.questions.import_result import Location, ParseResult, short_name
from trainer.questions.importers.limits import DEFAULT_LIMITS, ImportLimits
from trainer.questions.importers.moodle_rules import (
    GradedAnswer,
    judge_multiple,
    judge_single,
    moodle_category_path,
)
from trainer.questions.importers.textfile import NotText, decode_text
from trainer.questions.spreadsheet import parse_difficulty
from trainer.questions.text import clean_text
from trainer.questions.types import DEFAULT_DIFFICULTY, QuestionContent

_PLACEHOLDERS = {
    "\\": "\ue000",
    "~": "\ue001",
    "=": "\ue002",
    "#": "\ue003",
    "{": "\ue004",
    "}": "\ue005",
    ":": "\ue006",
}
_ESCAPE = re.compile(r"\\([\\~=#{}:n])")
_PRIVATE = re.compile("[\ue000-\ue006]")
_UNESCAPE = {placeholder: char for char, placeholder in _PLACEHOLDERS.items()}
_FORMAT_MARKER = re.compile(r"^\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d*)?)%")
_DIFFICULTY_COMMENT = re.compile(r"^//\s*(?:difficulty|难度)\s*[:：]\s*(\S+)", re.IGNORECASE)
_CATEGORY_EXTRAS = re.compile(r"\s*\[(?:id|info):.*$", re.DOTALL)
TRUE_FALSE_WORDS = {"T": True, "TRUE": True, "F": False, "FALSE": False}
MISSING_WORD_BLANK = "_____"


def _escape_pre(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        return "\n" if char == "n" else _PLACEHOLDERS[char]

    return _ESCAPE.sub(replace, _PRIVATE.sub("", text))


def _escape_post(text: str) -> str:
    return _PRIVATE.sub(lambda match: _UNESCAPE[match.group(0)], text)


def _formatted_text(raw: str) -> str:
    """Apply an optional leading format marker, undo escapes, and return plain text."""
    raw = raw.strip()
    marker = _FORMAT_MARKER.match(raw)
    text_format = "moodle-default"
    if marker:
        text_format = marker.group(1).lower()
        raw = raw[marker.end() :]
    text = _escape_post(raw)
    if text_format in ("html", "moodle"):
        return html_to_text(text).text
    return clean_text(text)


@dataclass
class _Block:
    line: int
    text: str
    difficulty: str | None = None
    difficulty_line: int = 0


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: list[str] = []
    start = 0
    difficulty: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal current, difficulty
        if current and any(line.strip() for line in current):
            block = _Block(start, "\n".join(current).strip())
            if difficulty is not None:
                block.difficulty, block.difficulty_line = difficulty
            blocks.append(block)
        current, difficulty = [], None

    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.strip()
        if not line:
            flush()
            continue
        if line.startswith("//"):
            found = _DIFFICULTY_COMMENT.match(line)
            if found:
                difficulty = (found.group(1), number)
            continue
        if not current:
            start = number
        current.append(line)
    flush()
    return blocks


def parse_gift(data: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS) -> ParseResult:
    result = ParseResult(filename=filename, format="gift")
    try:
        text = decode_text(data)
    except NotText as exc:
        result.error(None, "file", exc.reason)
        return result
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    category = ""
    count = 0
    for block in _blocks(text):
        body = _escape_pre(block.text)
        line = block.line
        if body.startswith("$CATEGORY:"):
            first, _sep, rest = body.partition("\n")
            category = moodle_category_path(
                _escape_post(_CATEGORY_EXTRAS.sub("", first[len("$CATEGORY:") :]))
            )
            result.see_category(category)
            if not rest.strip():
                continue
            body, line = rest.strip(), line + 1
        count += 1
        if count > limits.max_questions:
            result.error(
                Location("line", line),
                "file",
                _(
                    "The file has more than %(limit)s questions; split it into smaller files.",
                    limit=limits.max_questions,
                ),
            )
            break
        _read_question(body, block, Location("line", line), category, result)
    return result


def _read_question(
    body: str, block: _Block, where: Location, category: str, result: ParseResult
) -> None:
    title = ""
    if body.startswith("::"):
        body = body[2:]
        end = body.find("::")
        if end >= 0:
            title = clean_text(_escape_post(body[:end]))
            body = body[end + 2 :].strip()

    start, finish = body.find("{"), body.find("}")
    if start < 0 and finish < 0:
        result.add_unsupported(title or short_name(_formatted_text(body)), "description", where)
        return
    if start < 0 or finish < start:
        result.error(where, "answer", _("Could not find a {…} block around the answers."))
        return
    answer_text = body[start + 1 : finish].strip()
    before, after = body[:start], body[finish + 1 :]

    explanation = ""
    feedback_at = answer_text.rfind("####")
    if feedback_at >= 0:
        explanation = _formatted_text(answer_text[feedback_at + 4 :])
        answer_text = answer_text[:feedback_at].strip()

    kind = _kind(answer_text)
    if after.strip() and kind != "true_false":
        stem_raw = before + MISSING_WORD_BLANK + after
    else:
        # A true/false statement has no blank to fill: text after its block is kept as is
        # (Moodle's own fixture has a stray ``";`` there).
        stem_raw = before + after
    stem = _formatted_text(stem_raw)
    name = title or short_name(stem)
    if kind not in ("single", "multiple", "true_false"):
        result.add_unsupported(name, kind, where)
        return

    difficulty = DEFAULT_DIFFICULTY
    if block.difficulty is not None:
        parsed = parse_difficulty(block.difficulty)
        if parsed is None:
            result.warn(
                Location("line", block.difficulty_line),
                "difficulty",
                _("Unknown difficulty “%(value)s”; medium was used.", value=block.difficulty),
            )
        else:
            difficulty = parsed

    content = QuestionContent(
        type=kind,
        stem=stem,
        explanation=explanation,
        category=category,
        difficulty=difficulty,
    )
    if kind == "true_false":
        word = answer_text.split("#", 1)[0].strip().upper()
        content.answer = TRUE_FALSE_WORDS[word]
        result.add_question(content, where, name)
        return

    answers = _choice_answers(answer_text)
    if len(answers) < 2:
        result.error(where, "options", _("A choice question needs at least 2 answers."))
        return
    verdict = judge_single(answers) if kind == "single" else judge_multiple(answers)
    if verdict.error is not None:
        result.error(where, "grades", verdict.error)
        return
    content.options = [answer.text for answer in answers]
    content.answer = verdict.correct
    if result.add_question(content, where, name) and verdict.warning is not None:
        result.warn(where, "grades", verdict.warning)


def _kind(answer_text: str) -> str:
    if answer_text == "":
        return "essay"
    if answer_text.startswith("#"):
        return "numerical"
    if "~" in answer_text:
        return "single" if "=" in answer_text else "multiple"
    if "=" in answer_text and "->" in answer_text:
        return "matching"
    if answer_text.split("#", 1)[0].strip().upper() in TRUE_FALSE_WORDS:
        return "true_false"
    return "shortanswer"


def _choice_answers(answer_text: str) -> list[GradedAnswer]:
    parts = answer_text.replace("=", "~=").split("~")
    if parts and not parts[0].strip():
        parts = parts[1:]
    answers: list[GradedAnswer] = []
    for part in parts:
        part = part.strip()
        percent = 0.0
        if part.startswith("="):
            percent, part = 100.0, part[1:]
        else:
            weight = _WEIGHT.match(part)
            if weight:
                percent, part = float(weight.group(1)), part[weight.end() :]
        text = part.split("#", 1)[0]
        answers.append(GradedAnswer(_formatted_text(text), percent))
    return answers
