"""JSON importer: the list written by ``exporters.json_format`` (see there for the shape)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask_babel import lazy_gettext as _

from trainer.questions.import_result import Location, ParseResult
from trainer.questions.importers.images import ImageRejected, reencode_image
from trainer.questions.importers.limits import DEFAULT_LIMITS, ImportLimits
from trainer.questions.importers.textfile import NotText, decode_text
from trainer.questions.spreadsheet import normalise_category, parse_difficulty
from trainer.questions.text import clean_text
from trainer.questions.types import QuestionContent, QuestionImage, type_for_alias

KNOWN_KEYS = frozenset(
    {"type", "stem", "options", "answer", "explanation", "category", "difficulty", "images"}
)


def parse_json(data: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS) -> ParseResult:
    result = ParseResult(filename=filename, format="json")
    try:
        document = json.loads(decode_text(data))
    except NotText as exc:
        result.error(None, "file", exc.reason)
        return result
    except json.JSONDecodeError as exc:
        result.error(
            Location("line", exc.lineno),
            "file",
            _("The JSON is malformed (%(detail)s).", detail=exc.msg),
        )
        return result
    except (RecursionError, ValueError):
        result.error(None, "file", _("The JSON is nested too deeply or is not valid."))
        return result
    if isinstance(document, dict) and isinstance(document.get("questions"), list):
        document = document["questions"]
    if not isinstance(document, list):
        result.error(None, "file", _("The JSON must be a list of questions."))
        return result
    if len(document) > limits.max_questions:
        result.error(
            None,
            "file",
            _(
                "The file has more than %(limit)s questions; split it into smaller files.",
                limit=limits.max_questions,
            ),
        )
        return result
    unknown: set[str] = set()
    for number, item in enumerate(document, start=1):
        where = Location("item", number)
        if not isinstance(item, dict):
            result.error(where, "file", _("Each question must be a JSON object."))
            continue
        unknown.update(str(key) for key in item if key not in KNOWN_KEYS)
        _read_item(item, where, result, limits)
    if unknown:
        result.warn(
            None,
            "file",
            _("Unknown keys were ignored: %(keys)s.", keys=", ".join(sorted(unknown))),
        )
    return result


def _text(item: dict[str, Any], key: str, where: Location, result: ParseResult) -> str | None:
    value = item.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        result.error(where, key, _("“%(key)s” must be text.", key=key))
        return None
    return value


def _read_item(
    item: dict[str, Any], where: Location, result: ParseResult, limits: ImportLimits
) -> None:
    errors_before = len(result.errors)
    type_value = item.get("type")
    question_type = type_for_alias(type_value) if isinstance(type_value, str) else None
    if question_type is None:
        result.error(where, "type", _("Unknown question type “%(value)s”.", value=str(type_value)))
    stem = _text(item, "stem", where, result)
    explanation = _text(item, "explanation", where, result)
    category = _text(item, "category", where, result)
    difficulty_text = _text(item, "difficulty", where, result)
    difficulty = parse_difficulty(difficulty_text) if difficulty_text is not None else None
    if difficulty_text is not None and difficulty is None:
        result.error(
            where,
            "difficulty",
            _("Unknown difficulty “%(value)s”; use easy, medium or hard.", value=difficulty_text),
        )
    options = item.get("options", [])
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        result.error(where, "options", _("“options” must be a list of texts."))
        options = []
    answer = item.get("answer")
    if not (
        isinstance(answer, bool)
        or (isinstance(answer, list) and all(type(i) is int for i in answer))
    ):
        result.error(
            where, "answer", _("“answer” must be a list of option numbers, or true/false.")
        )
    images = _images(item.get("images", []), where, result, limits)
    if len(result.errors) > errors_before:
        return
    assert question_type is not None and stem is not None and difficulty is not None
    content = QuestionContent(
        type=question_type.key,
        stem=clean_text(stem),
        options=[clean_text(option) for option in options],
        answer=sorted(answer) if isinstance(answer, list) else bool(answer),
        explanation=clean_text(explanation or ""),
        category=normalise_category(category or ""),
        difficulty=difficulty,
        images=images,
    )
    result.add_question(content, where)


def _images(
    value: object, where: Location, result: ParseResult, limits: ImportLimits
) -> list[QuestionImage]:
    if not isinstance(value, list):
        result.error(where, "images", _("“images” must be a list."))
        return []
    images: list[QuestionImage] = []
    for entry in value:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("filename"), str)
            and isinstance(entry.get("data"), str)
        ):
            result.error(where, "images", _("Each image needs a “filename” and base64 “data”."))
            continue
        try:
            payload = base64.b64decode(entry["data"], validate=True)
        except (binascii.Error, ValueError):
            result.error(
                where,
                "images",
                _("Image “%(name)s” is not valid base64.", name=entry["filename"]),
            )
            continue
        try:
            images.append(reencode_image(payload, entry["filename"], limits))
        except ImageRejected as exc:
            result.error(where, "images", exc.reason)
    return images
