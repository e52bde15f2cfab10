"""JSON export: a list of question objects.

Keys: ``type`` (``single``, ``multiple``, ``true_false``), ``stem``, ``options`` (``[]`` for
true/false), ``answer`` (0-based option indexes, or true/false), ``explanation``,
``category``, ``difficulty`` (``easy``/``medium``/``hard``), and ``images`` only when the
question has some: ``[{"filename", "mime", "data"}]`` with base64 data.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

from trainer.questions.types import QuestionContent


def question_to_json(content: QuestionContent) -> dict[str, Any]:
    answer: list[int] | bool = (
        content.answer if isinstance(content.answer, bool) else sorted(content.answer)
    )
    item: dict[str, Any] = {
        "type": content.type,
        "stem": content.stem,
        "options": list(content.options),
        "answer": answer,
        "explanation": content.explanation,
        "category": content.category,
        "difficulty": content.difficulty,
    }
    if content.images:
        item["images"] = [
            {
                "filename": image.filename,
                "mime": image.mime,
                "data": base64.b64encode(image.data).decode("ascii"),
            }
            for image in content.images
        ]
    return item


def export_json(questions: Iterable[QuestionContent]) -> bytes:
    items = [question_to_json(content) for content in questions]
    return (json.dumps(items, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
