"""GIFT export, readable by Moodle and by ``importers.gift``.

Each question gets a ``::title::`` (the first words of its text), its category a
``$CATEGORY: $course$/top/…`` line when it changes, its difficulty a ``// difficulty: …``
comment (ignored by Moodle), its explanation the general feedback ``####``. Multiple-answer
questions give each correct option an equal share of 100 % and each wrong option −100 %, the
closest Moodle comes to all-or-nothing scoring. GIFT cannot carry images; they are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from trainer.questions.import_result import short_name
from trainer.questions.types import QuestionContent

_SPECIAL = re.compile(r"([\\~=#{}:])")
_WEIGHT_LIKE = re.compile(r"^%-?\d")


def gift_escape(text: str) -> str:
    escaped = _SPECIAL.sub(r"\\\1", text).replace("\n", "\\n")
    # A leading [...] would be read as a text format marker: state the format explicitly.
    return "[plain]" + escaped if escaped.startswith("[") else escaped


def _option(prefix: str, text: str) -> str:
    escaped = gift_escape(text)
    if prefix == "~" and _WEIGHT_LIKE.match(escaped):
        prefix = "~%0%"  # so that a text starting with %50% is not read as a weight
    return f"\t{prefix}{escaped}"


def _single(content: QuestionContent) -> list[str]:
    assert isinstance(content.answer, list)
    correct = set(content.answer)
    return [_option("=" if i in correct else "~", o) for i, o in enumerate(content.options)]


def _multiple(content: QuestionContent) -> list[str]:
    assert isinstance(content.answer, list)
    correct = set(content.answer)
    share = f"{100 / len(correct):.5f}".rstrip("0").rstrip(".")
    return [
        _option(f"~%{share}%" if i in correct else "~%-100%", option)
        for i, option in enumerate(content.options)
    ]


def _true_false(content: QuestionContent) -> list[str]:
    return ["\tTRUE" if content.answer is True else "\tFALSE"]


ANSWER_WRITERS: dict[str, Callable[[QuestionContent], list[str]]] = {
    "single": _single,
    "multiple": _multiple,
    "true_false": _true_false,
}


def export_gift(questions: Iterable[QuestionContent]) -> bytes:
    blocks: list[str] = []
    category: str | None = None
    for content in questions:
        writer = ANSWER_WRITERS.get(content.type)
        if writer is None:
            raise ValueError(f"question type {content.type!r} has no GIFT form")
        if content.category != category:
            category = content.category
            path = "$course$/top" + (f"/{category}" if category else "")
            blocks.append(f"$CATEGORY: {path}")
        lines = [f"// difficulty: {content.difficulty}"]
        title = gift_escape(short_name(content.stem, 30).replace("\n", " "))
        lines.append(f"::{title}::{gift_escape(content.stem)}{{")
        lines.extend(writer(content))
        if content.explanation:
            lines.append(f"\t####{gift_escape(content.explanation)}")
        lines.append("}")
        blocks.append("\n".join(lines))
    return ("\n\n".join(blocks) + "\n").encode("utf-8")
