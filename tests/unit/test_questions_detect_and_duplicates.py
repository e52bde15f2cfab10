"""Format detection from content, and duplicate keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.questions.duplicates import duplicate_key, find_duplicates
from trainer.questions.exporters import export_questions, make_template
from trainer.questions.importers import Location, ParsedQuestion, detect_format, parse
from trainer.questions.spreadsheet import example_questions
from trainer.questions.types import QuestionContent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questions"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bank_utf8.csv", "csv"),
        ("bank_utf8_bom.csv", "csv"),
        ("bank_gbk.csv", "csv"),
        ("bank_errors.csv", "csv"),
        ("sample.gift", "gift"),
        ("bad.gift", "gift"),
        ("sample.aiken.txt", "aiken"),
        ("bad.aiken.txt", "aiken"),
        ("sample_moodle.xml", "moodle-xml"),
    ],
)
def test_detects_fixture_formats_from_content(name: str, expected: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert detect_format("upload.bin", data[:4096]) == expected


def test_detects_exports_and_templates_from_content() -> None:
    examples = example_questions()
    assert detect_format("x", make_template("xlsx")[:64]) == "xlsx"
    assert detect_format("x", make_template("csv", "en")[:64]) == "csv"
    for file_format in ("json", "gift", "moodle-xml"):
        assert detect_format("x", export_questions(examples, file_format)[:200]) == file_format


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", "xls"),
        ("a", b"<quiz>\n<question", "moodle-xml"),
        ("a", b"\xef\xbb\xbf  <?xml version='1.0'?>", "moodle-xml"),
        ("a", b'[\n  {"type": "single"', "json"),
        ("a", b"[]", "json"),
        ("a", b'{"questions": []}', "json"),
        ("a", b"[html]<b>Q</b>{=a ~b}", "gift"),
        ("a", b"::T::Q{T}", "gift"),
        ("a", b"type;stem;answer\nsingle;q;A", "csv"),
        ("a.json", b"nothing recognisable", "json"),
        ("a.gift", b"nothing recognisable", "gift"),
        ("a.weird", b"nothing recognisable", "csv"),
        ("a", "题型,题干".encode("gbk") + b"\n", "csv"),
        ("a", "题型,题干,答".encode()[:-1], "csv"),  # a character cut by the sniff window
    ],
)
def test_detection_rules(name: str, head: bytes, expected: str) -> None:
    assert detect_format(name, head) == expected


def test_format_override() -> None:
    data = (FIXTURES / "sample.aiken.txt").read_bytes()
    assert parse(data, "x.txt").format == "aiken"
    forced = parse(data, "x.txt", format="gift")
    assert forced.format == "gift" and forced.questions == []


def content(stem: str, options: list[str], kind: str = "single") -> QuestionContent:
    return QuestionContent(type=kind, stem=stem, options=options, answer=[0])


def test_duplicate_key_ignores_width_case_space_punctuation_and_order() -> None:
    key = duplicate_key(content("发生电气火灾时，首先应当（ ）。", ["切断电源", "用水扑救"]))
    assert key == duplicate_key(content("发生电气火灾时,首先应当( ).", ["用水扑救", " 切断 电源"]))
    assert key == duplicate_key(
        content("发生电气火灾时首先应当", ["切断电源", "用水扑救"], "multiple")
    )
    assert key != duplicate_key(
        content("发生电气火灾时，首先应当（ ）。", ["切断电源", "用沙扑救"])
    )
    assert key != duplicate_key(content("发生火灾时，首先应当（ ）。", ["切断电源", "用水扑救"]))
    assert len(key) == 64
    assert duplicate_key(content("Use ≥ 30 mA", ["a", "b"])) != duplicate_key(
        content("Use ≤ 30 mA", ["a", "b"])
    )


def test_find_duplicates_in_file_and_against_existing_keys() -> None:
    a = content("Q one", ["x", "y"])
    b = content("Q two", ["x", "y"])
    questions = [
        ParsedQuestion(a, Location("row", 2)),
        ParsedQuestion(b, Location("row", 3)),
        ParsedQuestion(content("q ONE!", ["y", "x"]), Location("row", 4)),
        ParsedQuestion(b, Location("row", 5)),
    ]
    found = find_duplicates(questions)
    assert [(d.location.number, d.first.number if d.first else None) for d in found] == [
        (4, 2),
        (5, 3),
    ]
    against_bank = find_duplicates(questions, existing_keys={duplicate_key(b)})
    assert [(d.location.number, d.first) for d in against_bank] == [
        (3, None),
        (4, Location("row", 2)),
        (5, None),
    ]


def test_parse_reports_duplicates() -> None:
    examples = example_questions()
    data = export_questions(examples + examples[:1], "json")
    result = parse(data, "dup.json", existing_keys={duplicate_key(examples[2])})
    assert result.ok
    assert [
        (d.location.number, d.first.number if d.first else None) for d in result.duplicates
    ] == [
        (3, None),
        (4, 1),
    ]
