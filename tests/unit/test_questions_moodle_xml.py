"""Moodle XML importer: types, grades, categories, HTML, embedded files."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from trainer.questions.importers import ImportLimits, parse
from trainer.questions.importers.images import ImageRejected, reencode_image, safe_image_name
from trainer.questions.importers.moodle_rules import moodle_category_path
from trainer.questions.importers.moodle_xml import parse_moodle_xml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questions"


def quiz(*questions: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "\n".join(questions) + "\n</quiz>"
    ).encode()


def test_sample() -> None:
    result = parse((FIXTURES / "sample_moodle.xml").read_bytes(), "sample_moodle.xml")
    assert result.format == "moodle-xml"
    assert result.categories == ["危险化学品/储存"]
    single, multiple, true_false = result.questions
    assert single.name == "储存要求"
    assert single.content.stem == "危险化学品应当储存在 专用仓库 内吗？"  # nbsp → space, no script
    assert single.content.options == ["专用仓库、专用场地或者专用储存室", "普通仓库", "photo.jpg"]
    assert single.content.explanation == "见《危险化学品安全管理条例》第二十四条。"
    assert [(i.filename, i.mime) for i in single.content.images] == [
        ("sign.png", "image/png"),
        ("photo.jpg", "image/jpeg"),
    ]
    with Image.open(io.BytesIO(single.content.images[0].data)) as png:
        assert png.mode == "RGBA" and png.size == (40, 30)
    assert multiple.content.stem == "Which are personal protective equipment? 1 < 2 & 3 > 2"
    assert (multiple.content.answer, multiple.content.difficulty) == ([0, 1, 2], "hard")
    assert (true_false.content.answer, true_false.content.difficulty) == (False, "easy")
    assert [(u.name, u.kind) for u in result.unsupported] == [("Short", "shortanswer")]
    assert [(w.field, str(w.reason)) for w in result.warnings] == [
        ("images", "File “alarm.mp3” is not a supported image and was dropped.")
    ]
    [error] = result.errors
    assert (error.location.number if error.location else None, error.field) == (42, "grades")


def test_truncated_xml_is_an_error_with_a_line() -> None:
    result = parse((FIXTURES / "truncated_moodle.xml").read_bytes(), "t.xml")
    [error] = result.errors
    assert error.field == "file" and error.location is not None
    assert "malformed" in str(error.reason)


def test_not_a_quiz() -> None:
    result = parse_moodle_xml(b"<?xml version='1.0'?><html><body/></html>", "x.xml")
    assert "must start with <quiz>" in str(result.errors[0].reason)


def test_grades() -> None:
    def multichoice(single: str, *fractions: str) -> str:
        answers = "".join(
            f'<answer fraction="{f}"><text>option {i}</text></answer>'
            for i, f in enumerate(fractions)
        )
        return (
            f'<question type="multichoice"><name><text>q</text></name><questiontext format="html">'
            f"<text>Q</text></questiontext><single>{single}</single>{answers}</question>"
        )

    result = parse_moodle_xml(
        quiz(
            multichoice("false", "50", "50", "0"),
            multichoice("false", "33.33333", "33.33333", "33.33333", "-100"),
            multichoice("false", "33", "33.33333", "33.33333"),
            multichoice("false", "0", "0"),
            multichoice("true", "100", "50", "0"),
            multichoice("true", "90", "10"),
            multichoice("true", "100", "100"),
            multichoice("1", "abc", "100"),
        ),
        "g.xml",
    )
    assert [q.content.answer for q in result.questions] == [[0, 1], [0, 1, 2], [0]]
    assert [e.field for e in result.errors] == ["grades", "grades", "grades", "answer", "grades"]
    assert [w.field for w in result.warnings] == ["grades"]  # partial credit dropped


def test_category_paths() -> None:
    assert moodle_category_path("$course$/top/A/B") == "A/B"
    assert moodle_category_path("$course$/Default for X") == "Default for X"
    assert moodle_category_path("$system$/top") == ""
    assert moodle_category_path(" $cat1$ / A / / B ") == "A/B"
    assert moodle_category_path("Plain/Path") == "Plain/Path"


def test_images_are_reencoded_and_bounded() -> None:
    big = io.BytesIO()
    Image.new("RGB", (4000, 1000), (200, 10, 10)).save(big, "JPEG")
    image = reencode_image(big.getvalue(), "../../etc/big photo.JPG")
    assert image.mime == "image/jpeg" and image.filename == "big_photo.jpg"
    with Image.open(io.BytesIO(image.data)) as reopened:
        assert max(reopened.size) <= 1600
    gif = io.BytesIO()
    Image.new("P", (10, 10)).save(gif, "GIF")
    assert reencode_image(gif.getvalue(), "a.gif").mime == "image/png"
    for bad in (b"", b"GIF89a" + b"\x00" * 10, b"not an image", big.getvalue()[:200]):
        try:
            reencode_image(bad, "x.jpg")
        except ImageRejected as exc:
            assert "dropped" in str(exc.reason)
        else:
            raise AssertionError("accepted a broken image")
    try:
        reencode_image(big.getvalue(), "x.jpg", ImportLimits(max_image_pixels=1000))
    except ImageRejected as exc:
        assert "too many pixels" in str(exc.reason)
    else:
        raise AssertionError("accepted too many pixels")
    assert safe_image_name("a\\b\\c.png", "png") == "c.png"
    assert safe_image_name("...", "png") == "image.png"


def test_a_question_survives_broken_files() -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (5, 5)).save(jpeg, "JPEG")
    good = base64.b64encode(jpeg.getvalue()).decode()
    result = parse_moodle_xml(
        quiz(
            '<question type="truefalse"><name><text>tf</text></name>'
            '<questiontext format="html"><text>Statement</text>'
            f'<file name="ok.jpg" encoding="base64">{good}</file>'
            '<file name="broken.png" encoding="base64">iVBORw0KGgo=</file>'
            '<file name="junk.bin" encoding="base64">!!!not base64!!!</file>'
            "</questiontext>"
            '<answer fraction="100"><text>true</text></answer>'
            '<answer fraction="0"><text>false</text></answer></question>'
        ),
        "f.xml",
    )
    [question] = result.questions
    assert question.content.answer is True
    assert [i.filename for i in question.content.images] == ["ok.jpg"]
    assert len(result.warnings) == 2 and result.errors == []


def test_truefalse_without_true_false_texts_uses_order_like_moodle() -> None:
    result = parse_moodle_xml(
        quiz(
            '<question type="truefalse"><questiontext><text>S</text></questiontext>'
            '<answer fraction="0"><text>Yes</text></answer>'
            '<answer fraction="100"><text>No</text></answer></question>',
            '<question type="truefalse"><questiontext><text>S2</text></questiontext></question>',
        ),
        "o.xml",
    )
    assert [q.content.answer for q in result.questions] == [False]
    assert [e.field for e in result.errors] == ["answer"]
