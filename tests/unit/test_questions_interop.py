"""Moodle's own fixture files: exactly the counts stated in interop/moodle/README.md.

The files live outside this repository: ``$TRAINER_SHARED_DIR/interop/moodle`` (default
``<repo root>/../shared``). Without them these tests are skipped, with the path they looked at.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from trainer.questions.importers import detect_format, parse

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("TRAINER_SHARED_DIR", REPO_ROOT.parent / "shared"))
MOODLE = SHARED / "interop" / "moodle"


def moodle_file(name: str) -> bytes:
    path = MOODLE / name
    if not path.is_file():
        pytest.skip(f"Moodle interop fixtures not found at {MOODLE} (set TRAINER_SHARED_DIR)")
    return path.read_bytes()


# file: (format, supported by type, unsupported by kind, number of errors, categories)
EXPECTED: dict[str, tuple[str, dict[str, int], dict[str, int], int, list[str]]] = {
    "gift__examples.txt": (
        "gift",
        {"single": 16, "multiple": 2, "true_false": 5},
        {"shortanswer": 9, "numerical": 8, "matching": 3},
        0,
        [],
    ),
    "gift__tests__fixtures__questions.gift.txt": (
        "gift",
        {"single": 1, "multiple": 1, "true_false": 3},
        {"essay": 1, "matching": 1, "numerical": 1, "shortanswer": 1},
        0,
        [],
    ),
    "gift__tests__fixtures__questions_in_category.gift.txt": (
        "gift",
        {"single": 1, "true_false": 1},
        {"matching": 1, "shortanswer": 1},
        0,
        ["Default for New Features"],
    ),
    "aiken__tests__fixtures__questions.aiken.txt": ("aiken", {"single": 2}, {}, 0, []),
    "aiken__tests__fixtures__aiken_errors.txt": ("aiken", {"single": 2}, {}, 4, []),
    "xml__tests__fixtures__truefalse.xml": (
        "moodle-xml",
        {"true_false": 2},
        {},
        0,
        ["Default for testhead/TrueFalse"],
    ),
    "xml__tests__fixtures__multichoice.xml": (
        "moodle-xml",
        {"single": 1},
        {},
        0,
        ["Default for testhead/Multichoice"],
    ),
    "xml__tests__fixtures__nested_categories_with_questions.xml": (
        "moodle-xml",
        {"true_false": 4},
        {"essay": 1},
        0,
        ["Iota", "Iota/Kappa", "Iota/Kappa/Lambda", "Iota/Mu"],
    ),
    "xml__tests__fixtures__error_invalid_grades.xml": ("moodle-xml", {}, {}, 1, []),
    "xml__tests__fixtures__category_with_description.xml": (
        "moodle-xml",
        {"true_false": 1},
        {},
        0,
        ["Alpha"],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_match_the_readme(name: str) -> None:
    data = moodle_file(name)
    file_format, supported, unsupported, errors, categories = EXPECTED[name]
    assert detect_format(name, data[:4096]) == file_format
    result = parse(data, name)
    assert result.format == file_format
    assert Counter(q.content.type for q in result.questions) == Counter(supported)
    assert Counter(u.kind for u in result.unsupported) == Counter(unsupported)
    assert len(result.errors) == errors, [str(e) for e in result.errors]
    assert result.categories == categories


def test_corpus_totals() -> None:
    totals: Counter[str] = Counter()
    missing: Counter[str] = Counter()
    for name in EXPECTED:
        result = parse(moodle_file(name), name)
        totals.update(q.content.type for q in result.questions)
        missing.update(u.kind for u in result.unsupported)
    assert totals == Counter({"single": 23, "multiple": 3, "true_false": 16})
    assert missing == Counter({"shortanswer": 11, "numerical": 9, "matching": 5, "essay": 2})


def test_aiken_errors_use_moodles_messages() -> None:
    name = "aiken__tests__fixtures__aiken_errors.txt"
    result = parse(moodle_file(name), name)
    assert [str(e.reason) for e in result.errors] == [
        "Question must have at least 2 answers on line 3",
        "Question not started on line 5",
        "Question not started on line 7",
        "Question not completed before next question start on line 18",
    ]
    assert [q.content.stem for q in result.questions] == [
        "A good question",
        "A second good question",
    ]
    assert [q.content.answer for q in result.questions] == [[0], [1]]


def test_invalid_grades_error() -> None:
    name = "xml__tests__fixtures__error_invalid_grades.xml"
    [error] = parse(moodle_file(name), name).errors
    assert error.field == "grades"
    assert error.location is not None and error.location.number == 4
    assert "not 100%" in str(error.reason)


def test_named_questions_of_the_gift_fixture() -> None:
    name = "gift__tests__fixtures__questions.gift.txt"
    result = parse(moodle_file(name), name)
    assert [(q.name, q.content.type) for q in result.questions] == [
        ("Q2", "single"),
        ("colours", "multiple"),
        ("Q1", "true_false"),
        ("2-08 TSL", "true_false"),
        ("2-08 TSL", "true_false"),
    ]
    assert [(u.name, u.kind) for u in result.unsupported] == [
        ("Q8", "essay"),
        ("Moodle activities", "matching"),
        ("Q5", "numerical"),
        ("Shortanswer", "shortanswer"),
    ]
    q1 = result.questions[2].content
    assert q1.answer is False
    assert q1.explanation == "This is, of course, a Hitchiker's Guide to the Galaxy reference."
    colours = result.questions[1].content
    assert (colours.options, colours.answer) == (["yellow", "red", "off-beige", "blue"], [0, 2])
    # The two "2-08 TSL" questions are the same question: the duplicate helper says so.
    assert [
        (d.location.number, d.first.number if d.first else None) for d in result.duplicates
    ] == [(49, 46)]


def test_embedded_files_do_not_cost_the_question() -> None:
    name = "xml__tests__fixtures__truefalse.xml"
    result = parse(moodle_file(name), name)
    false_one, true_one = (q.content for q in result.questions)
    assert (false_one.answer, true_one.answer) == (False, True)
    assert false_one.stem == (
        "Moodle is an acronym for Modular Object-Oriented Dynamic Learning Education."
    )
    assert "\u00a0" not in false_one.stem + false_one.explanation
    assert [(i.filename, i.mime) for i in false_one.images] == [
        ("logo.jpg", "image/jpeg"),
        ("infos.jpg", "image/jpeg"),
    ]
    name = "xml__tests__fixtures__multichoice.xml"
    result = parse(moodle_file(name), name)
    [greeting] = result.questions
    assert greeting.content.options == ["English", "French", "German", "Danish"]
    assert greeting.content.answer == [1]
    assert len(greeting.content.images) == 4
    assert [str(w.reason) for w in result.warnings] == [
        "File “bonjour.mp3” is not a supported image and was dropped."
    ]
