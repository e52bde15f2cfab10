"""Moodle XML export, readable by Moodle and by ``importers.moodle_xml``.

Text is written as HTML (escaped, line breaks as ``<br>``, paragraphs as ``<p>``); images are
embedded as base64 ``<file>`` elements referenced with ``@@PLUGINFILE@@``. Categories become
``$course$/top/…`` category entries, the difficulty a ``difficulty:…`` tag. Multiple-answer
questions give each correct option an equal share of 100 % and each wrong option −100 %.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterable
from urllib.parse import quote

from trainer.questions.import_result import short_name
from trainer.questions.types import QuestionContent, QuestionImage


def text_to_html(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def _text_field(
    tag: str, text: str, images: Iterable[QuestionImage] = (), indent: str = "    "
) -> str:
    images = list(images)
    body = text_to_html(text)
    if images:
        body += (
            "<p>"
            + "".join(
                f'<img src="@@PLUGINFILE@@/{html.escape(quote(image.filename))}" alt="">'
                for image in images
            )
            + "</p>"
        )
    parts = [f'{indent}<{tag} format="html">', f"{indent}  <text>{html.escape(body)}</text>"]
    for image in images:
        data = base64.b64encode(image.data).decode("ascii")
        parts.append(
            f'{indent}  <file name="{html.escape(image.filename)}" path="/" '
            f'encoding="base64">{data}</file>'
        )
    parts.append(f"{indent}</{tag}>")
    return "\n".join(parts)


def _answer(fraction: str, text: str) -> str:
    return "\n".join(
        [
            f'    <answer fraction="{fraction}" format="html">',
            f"      <text>{html.escape(text_to_html(text))}</text>",
            '      <feedback format="html"><text></text></feedback>',
            "    </answer>",
        ]
    )


def _choices(content: QuestionContent, single: bool) -> list[str]:
    assert isinstance(content.answer, list)
    correct = set(content.answer)
    share = "100" if single else f"{100 / len(correct):.7f}".rstrip("0").rstrip(".")
    wrong = "0" if single else "-100"
    lines = [
        f"    <single>{'true' if single else 'false'}</single>",
        "    <shuffleanswers>true</shuffleanswers>",
        "    <answernumbering>ABCD</answernumbering>",
    ]
    lines += [_answer(share if i in correct else wrong, o) for i, o in enumerate(content.options)]
    return lines


def _true_false(content: QuestionContent) -> list[str]:
    true_fraction, false_fraction = ("100", "0") if content.answer is True else ("0", "100")
    return [
        f'    <answer fraction="{true_fraction}" format="moodle_auto_format">'
        "<text>true</text><feedback><text></text></feedback></answer>",
        f'    <answer fraction="{false_fraction}" format="moodle_auto_format">'
        "<text>false</text><feedback><text></text></feedback></answer>",
    ]


QUESTION_WRITERS: dict[str, tuple[str, Callable[[QuestionContent], list[str]]]] = {
    "single": ("multichoice", lambda content: _choices(content, single=True)),
    "multiple": ("multichoice", lambda content: _choices(content, single=False)),
    "true_false": ("truefalse", _true_false),
}


def export_moodle_xml(questions: Iterable[QuestionContent]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    category: str | None = None
    for content in questions:
        if content.type not in QUESTION_WRITERS:
            raise ValueError(f"question type {content.type!r} has no Moodle XML form")
        moodle_type, writer = QUESTION_WRITERS[content.type]
        if content.category != category:
            category = content.category
            path = "$course$/top" + (f"/{category}" if category else "")
            lines += [
                '  <question type="category">',
                f"    <category><text>{html.escape(path)}</text></category>",
                "  </question>",
            ]
        lines += [
            f'  <question type="{moodle_type}">',
            f"    <name><text>{html.escape(short_name(content.stem, 50))}</text></name>",
            _text_field("questiontext", content.stem, content.images),
            _text_field("generalfeedback", content.explanation),
            "    <defaultgrade>1.0000000</defaultgrade>",
            "    <penalty>0.0000000</penalty>",
            "    <hidden>0</hidden>",
            *writer(content),
            f"    <tags><tag><text>difficulty:{content.difficulty}</text></tag></tags>",
            "  </question>",
        ]
    lines.append("</quiz>")
    return ("\n".join(lines) + "\n").encode("utf-8")
