"""Export then import gives the same questions, for every format."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from trainer.questions.duplicates import duplicate_key
from trainer.questions.exporters import EXPORTERS, export_questions
from trainer.questions.importers import parse
from trainer.questions.spreadsheet import example_questions, normalise_category
from trainer.questions.text import clean_text
from trainer.questions.types import (
    MAX_OPTIONS,
    QuestionContent,
    QuestionImage,
    validate,
)

FORMATS = sorted(EXPORTERS)
CARRIES_IMAGES = {"json", "moodle-xml"}
FILENAMES = {
    "json": "bank.json",
    "xlsx": "bank.xlsx",
    "csv": "bank.csv",
    "gift": "bank.gift",
    "moodle-xml": "bank.xml",
}

# Characters that matter to one format or another: GIFT controls, XML/HTML specials, CSV
# quoting, spreadsheet formula starts, full-width and CJK text.
ALPHABET = "abcXYZ019 安全帽电工作业（）。，、？：；“”《》℃≥≤～=#{}:\\[]%<>&\"',-+@/*_→"
texts = st.text(alphabet=ALPHABET, min_size=1, max_size=40).map(clean_text).filter(bool)
multiline = st.lists(texts, min_size=1, max_size=3).map("\n".join)
segments = st.text(alphabet="abc电工消防 0123", min_size=1, max_size=8).map(str.strip).filter(bool)
categories = st.one_of(
    st.just(""), st.lists(segments, min_size=1, max_size=3).map("/".join).map(normalise_category)
)


@st.composite
def questions(draw: st.DrawFn) -> QuestionContent:
    kind = draw(st.sampled_from(["single", "multiple", "true_false"]))
    options: list[str] = []
    answer: list[int] | bool
    if kind == "true_false":
        answer = draw(st.booleans())
    else:
        options = draw(
            st.lists(texts, min_size=2, max_size=MAX_OPTIONS, unique_by=duplicate_key_of_text)
        )
        if kind == "single":
            answer = [draw(st.integers(0, len(options) - 1))]
        else:
            answer = sorted(
                draw(st.sets(st.integers(0, len(options) - 1), min_size=1, max_size=len(options)))
            )
    content = QuestionContent(
        type=kind,
        stem=draw(multiline),
        options=options,
        answer=answer,
        explanation=draw(st.one_of(st.just(""), multiline)),
        category=draw(categories),
        difficulty=draw(st.sampled_from(["easy", "medium", "hard"])),
    )
    return content


def duplicate_key_of_text(text: str) -> str:
    return "".join(text.split()).casefold()


def reimport(contents: list[QuestionContent], file_format: str) -> list[QuestionContent]:
    data = export_questions(contents, file_format)
    result = parse(data, FILENAMES[file_format])
    assert result.format == file_format
    assert result.errors == [], [str(e) for e in result.errors]
    return [q.content for q in result.questions]


@pytest.mark.parametrize("file_format", FORMATS)
@given(contents=st.lists(questions(), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_round_trip(file_format: str, contents: list[QuestionContent]) -> None:
    contents = [c for c in contents if not validate(c)]
    if not contents:
        return
    assert reimport(contents, file_format) == contents


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_round_trip_of_the_examples(file_format: str, language: str) -> None:
    examples = example_questions(language)
    assert reimport(examples, file_format) == examples


def png_bytes(size: tuple[int, int], colour: tuple[int, int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("file_format", sorted(CARRIES_IMAGES))
def test_images_round_trip(file_format: str) -> None:
    content = QuestionContent(
        type="single",
        stem="识别下列安全标志。",
        options=["禁止吸烟", "当心触电"],
        answer=[1],
        images=[
            QuestionImage("sign.png", png_bytes((30, 20), (255, 0, 0, 100)), "image/png"),
            QuestionImage("other sign.png", png_bytes((8, 8), (0, 0, 255, 255)), "image/png"),
        ],
    )
    [back] = reimport([content], file_format)
    assert [(i.filename, i.mime) for i in back.images] == [
        ("sign.png", "image/png"),
        ("other_sign.png", "image/png"),
    ]
    for before, after in zip(content.images, back.images, strict=True):
        with Image.open(io.BytesIO(before.data)) as a, Image.open(io.BytesIO(after.data)) as b:
            assert (a.size, a.mode, a.tobytes()) == (b.size, b.mode, b.tobytes())
    back.images = content.images
    assert back == content


def test_json_shape() -> None:
    [single, multiple, true_false] = json.loads(export_questions(example_questions(), "json"))
    assert set(single) == {
        "type",
        "stem",
        "options",
        "answer",
        "explanation",
        "category",
        "difficulty",
    }
    assert (single["type"], single["answer"]) == ("single", [0])
    assert (multiple["type"], multiple["answer"]) == ("multiple", [0, 1, 2])
    assert (true_false["type"], true_false["options"], true_false["answer"]) == (
        "true_false",
        [],
        True,
    )


def test_export_refuses_invalid_content_and_unknown_formats() -> None:
    broken = QuestionContent(type="single", stem="?", options=["a"], answer=[0])
    with pytest.raises(ValueError, match="not valid"):
        export_questions([broken], "gift")
    with pytest.raises(ValueError, match="unknown export format"):
        export_questions([], "docx")


def test_duplicate_keys_survive_round_trips() -> None:
    examples = example_questions()
    keys = [duplicate_key(c) for c in examples]
    for file_format in FORMATS:
        assert [duplicate_key(c) for c in reimport(examples, file_format)] == keys
