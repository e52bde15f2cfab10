"""Moodle XML importer (``<quiz><question type="…">``), parsed with defusedxml only.

* DTDs are refused, hence entity expansion and external entities too.
* ``multichoice`` with ``<single>true</single>`` (the default) is single choice, otherwise
  multiple choice; ``truefalse`` is true/false. Other types are reported as unsupported.
* ``<question type="category">`` sets the category of the questions after it; the path
  ``$course$/top/A/B`` becomes ``A/B`` (see ``moodle_category_path``).
* Grades are checked as Moodle does: a single-answer question needs an answer graded 100 %,
  and the positive grades of a multiple-answer question must add up to 100 %.
* Text in ``html`` or ``moodle_auto_format`` is reduced to plain text. Base64 files
  (``@@PLUGINFILE@@``) of the question text, the options and the general feedback are kept
  when they are images (re-encoded to PNG/JPEG); other files, such as MP3, are dropped with a
  warning. A question never fails because of its files.
* Trainer's own export writes the difficulty as a question tag ``difficulty:hard``.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET  # noqa: S405 - only for types and TreeBuilder; parsing is defused
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from flask_babel import lazy_gettext as _

from trainer.questions.html_text import html_to_text
from trainer.questions.import_result import Location, ParseResult, short_name
from trainer.questions.importers.images import ImageRejected, reencode_image
from trainer.questions.importers.limits import DEFAULT_LIMITS, ImportLimits
from trainer.questions.importers.moodle_rules import (
    GradedAnswer,
    judge_multiple,
    judge_single,
    moodle_category_path,
)
from trainer.questions.spreadsheet import parse_difficulty
from trainer.questions.text import clean_text, fold
from trainer.questions.types import DEFAULT_DIFFICULTY, QuestionContent, QuestionImage

_HTML_FORMATS = ("html", "moodle_auto_format", "")


class _LineRecordingBuilder:
    """TreeBuilder target that remembers the line where each top-level ``<question>`` starts."""

    def __init__(self) -> None:
        self.builder = ET.TreeBuilder()
        self.parser: DefusedXMLParser | None = None
        self.depth = 0
        self.question_lines: list[int] = []

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self.depth += 1
        if self.depth == 2 and tag == "question" and self.parser is not None:
            self.question_lines.append(self.parser.parser.CurrentLineNumber)
        return self.builder.start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return self.builder.end(tag)

    def data(self, data: str) -> None:
        self.builder.data(data)

    def close(self) -> ET.Element:
        return self.builder.close()


def _parse_xml(data: bytes) -> tuple[ET.Element, list[int]]:
    target = _LineRecordingBuilder()
    parser = DefusedXMLParser(
        target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    target.parser = parser
    parser.feed(data)
    root: ET.Element = parser.close()
    return root, target.question_lines


@dataclass
class _RichText:
    text: str
    images: list[QuestionImage] = field(default_factory=list)
    alt_texts: list[str] = field(default_factory=list)


@dataclass
class _Context:
    result: ParseResult
    limits: ImportLimits
    where: Location
    category: str


def parse_moodle_xml(
    data: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS
) -> ParseResult:
    result = ParseResult(filename=filename, format="moodle-xml")
    try:
        root, lines = _parse_xml(data)
    except DefusedXmlException:
        result.error(
            None,
            "file",
            _("The XML declares a DTD or entities, which are not allowed in a question file."),
        )
        return result
    except LookupError as exc:  # expat: the <?xml encoding="…"?> names no known encoding
        result.error(
            None,
            "file",
            _("The XML declares an encoding that is not known (%(detail)s); save the file "
              "as UTF-8.", detail=str(exc)),
        )
        return result
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        result.error(
            Location("line", line) if line else None,
            "file",
            _("The XML is malformed (%(detail)s).", detail=str(exc)),
        )
        return result
    if root.tag != "quiz":
        result.error(
            None, "file", _("This is not a Moodle XML question file (it must start with <quiz>).")
        )
        return result
    category = ""
    count = 0
    questions = root.findall("question")
    for element, line in zip(questions, lines, strict=False):
        where = Location("line", line)
        moodle_type = element.get("type", "")
        if moodle_type == "category":
            category = moodle_category_path(_plain(element, "category"))
            result.see_category(category)
            continue
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
            break
        reader = _READERS.get(moodle_type)
        if reader is None:
            name = _plain(element, "name") or short_name(_plain(element, "questiontext"))
            result.add_unsupported(name, moodle_type or "unknown", where)
            continue
        reader(element, _Context(result, limits, where, category))
    return result


def _plain(element: ET.Element, field_name: str) -> str:
    """Text of ``<field><text>``, HTML reduced to text, without touching files."""
    node = element.find(field_name)
    if node is None:
        return ""
    text = node.findtext("text") or ""
    if node.get("format", "") in _HTML_FORMATS:
        return html_to_text(text).text
    return clean_text(text)


def _rich(element: ET.Element | None, context: _Context) -> _RichText:
    """Text of a Moodle text field plus its embedded images."""
    if element is None:
        return _RichText("")
    raw = element.findtext("text") or ""
    if element.get("format", "") in _HTML_FORMATS:
        html = html_to_text(raw)
        text, alts = html.text, [image.alt for image in html.images]
    else:
        text, alts = clean_text(raw), []
    images: list[QuestionImage] = []
    for file_element in element.findall("file"):
        name = file_element.get("name", "file")
        if file_element.get("encoding", "base64") != "base64":
            continue
        try:
            payload = base64.b64decode(file_element.text or "", validate=False)
        except (binascii.Error, ValueError):
            context.result.warn(
                context.where,
                "images",
                _("File “%(name)s” is not valid base64 and was dropped.", name=name),
            )
            continue
        try:
            images.append(reencode_image(payload, name, context.limits))
        except ImageRejected as exc:
            context.result.warn(context.where, "images", exc.reason)
    return _RichText(text, images, alts)


def _difficulty(element: ET.Element, context: _Context) -> str:
    for tag in element.findall("tags/tag"):
        value = (tag.findtext("text") or "").strip()
        key, _sep, rest = value.partition(":")
        if fold(key) in ("difficulty", "难度") and rest:
            parsed = parse_difficulty(rest)
            if parsed is not None:
                return parsed
            context.result.warn(
                context.where,
                "difficulty",
                _("Unknown difficulty “%(value)s”; medium was used.", value=rest),
            )
    return DEFAULT_DIFFICULTY


def _common(
    element: ET.Element, context: _Context, question_type: str
) -> tuple[QuestionContent, str]:
    stem = _rich(element.find("questiontext"), context)
    feedback = _rich(element.find("generalfeedback"), context)
    content = QuestionContent(
        type=question_type,
        stem=stem.text,
        explanation=feedback.text,
        category=context.category,
        difficulty=_difficulty(element, context),
    )
    _add_images(content, stem.images + feedback.images)
    name = _plain(element, "name") or short_name(stem.text)
    return content, name


def _add_images(content: QuestionContent, images: list[QuestionImage]) -> None:
    names = {image.filename for image in content.images}
    for image in images:
        if image.filename not in names:
            content.images.append(image)
            names.add(image.filename)


def _read_multichoice(element: ET.Element, context: _Context) -> None:
    single = (element.findtext("single") or "true").strip().lower() in ("true", "1")
    content, name = _common(element, context, "single" if single else "multiple")
    answers: list[GradedAnswer] = []
    for answer in element.findall("answer"):
        text = _rich(answer, context)
        _add_images(content, text.images)
        option = text.text or " ".join(alt for alt in text.alt_texts if alt)
        if not option and text.images:
            option = text.images[0].filename
        try:
            percent = float(answer.get("fraction", "0"))
        except ValueError:
            context.result.error(
                context.where,
                "grades",
                _("The grade “%(value)s” is not a number.", value=answer.get("fraction", "")),
            )
            return
        answers.append(GradedAnswer(option, percent))
    if len(answers) < 2:
        context.result.error(
            context.where, "options", _("A choice question needs at least 2 answers.")
        )
        return
    verdict = judge_single(answers) if single else judge_multiple(answers)
    if verdict.error is not None:
        context.result.error(context.where, "grades", verdict.error)
        return
    content.options = [answer.text for answer in answers]
    content.answer = verdict.correct
    added = context.result.add_question(content, context.where, name)
    if added and verdict.warning is not None:
        context.result.warn(context.where, "grades", verdict.warning)


def _read_truefalse(element: ET.Element, context: _Context) -> None:
    content, name = _common(element, context, "true_false")
    answer: bool | None = None
    for position, answer_element in enumerate(element.findall("answer")):
        text = (answer_element.findtext("text") or "").strip().lower()
        if text not in ("true", "false"):
            # Old Moodle files: the first answer is "true", as Moodle's importer assumes.
            text = "true" if position == 0 else "false"
        if text == "true":
            try:
                answer = float(answer_element.get("fraction", "0")) == 100
            except ValueError:
                answer = None
    if answer is None:
        context.result.error(
            context.where, "answer", _("The true/false question has no “true” answer.")
        )
        return
    content.answer = answer
    context.result.add_question(content, context.where, name)


_READERS: dict[str, Callable[[ET.Element, _Context], Any]] = {
    "multichoice": _read_multichoice,
    "truefalse": _read_truefalse,
}
