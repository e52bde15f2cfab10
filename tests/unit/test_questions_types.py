"""The question-type registry: validation, response normalisation, grading, extension."""

from __future__ import annotations

from typing import ClassVar

import pytest
from flask_babel import lazy_gettext
from hypothesis import given
from hypothesis import strategies as st

from trainer.questions import types
from trainer.questions.importers import parse
from trainer.questions.types import (
    AnswerTextError,
    ContentError,
    MultipleChoice,
    QuestionContent,
    QuestionType,
    UnknownQuestionType,
    get_type,
    grade,
    question_types,
    type_for_alias,
    validate,
)


def single(**changes: object) -> QuestionContent:
    content = QuestionContent(
        type="single", stem="发生火灾时应拨打？", options=["119", "110", "120"], answer=[0]
    )
    for name, value in changes.items():
        setattr(content, name, value)
    return content


def multiple(**changes: object) -> QuestionContent:
    content = QuestionContent(
        type="multiple",
        stem="个体防护用品有？",
        options=["安全帽", "安全带", "手机"],
        answer=[0, 1],
    )
    for name, value in changes.items():
        setattr(content, name, value)
    return content


def true_false(**changes: object) -> QuestionContent:
    content = QuestionContent(type="true_false", stem="电气火灾可以用水扑救。", answer=False)
    for name, value in changes.items():
        setattr(content, name, value)
    return content


def fields(errors: list[ContentError]) -> list[str]:
    return [error.field for error in errors]


def test_registry_holds_the_three_types_with_templates() -> None:
    assert [t.key for t in question_types()] == ["single", "multiple", "true_false"]
    assert get_type("single").template == "questions/types/single.html"
    assert get_type("true_false").template == "questions/types/true_false.html"
    with pytest.raises(UnknownQuestionType):
        get_type("essay")


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("单选题", "single"),
        (" 单选 ", "single"),
        ("SINGLE", "single"),
        ("ｓｉｎｇｌｅ", "single"),
        ("多选题", "multiple"),
        ("多选", "multiple"),
        ("Multiple", "multiple"),
        ("判断题", "true_false"),
        ("判断", "true_false"),
        ("true_false", "true_false"),
        ("TRUE-FALSE", "true_false"),
    ],
)
def test_type_aliases(spelling: str, key: str) -> None:
    found = type_for_alias(spelling)
    assert found is not None and found.key == key


def test_unknown_alias() -> None:
    assert type_for_alias("问答题") is None
    assert type_for_alias("  ") is None


def test_valid_examples_have_no_errors() -> None:
    assert validate(single()) == []
    assert validate(multiple()) == []
    assert validate(true_false()) == []


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (single(options=["119"]), "options"),
        (single(options=["a", "b", "c", "d", "e", "f", "g"]), "options"),
        (single(answer=[]), "answer"),
        (single(answer=[0, 1]), "answer"),
        (single(answer=[3]), "answer"),
        (single(answer=[True]), "answer"),
        (single(answer=True), "answer"),
        (single(options=["119", " ", "120"]), "option_b"),
        (single(options=["119", "１１９", "120"]), "option_b"),
        (single(options=["安全 帽", "安全帽"]), "option_b"),
        (single(stem="  "), "stem"),
        (single(stem="x" * 5001), "stem"),
        (single(difficulty="extreme"), "difficulty"),
        (multiple(answer=[]), "answer"),
        (multiple(answer=[0, 0]), "answer"),
        (multiple(answer=[-1]), "answer"),
        (true_false(options=["对", "错"]), "options"),
        (true_false(answer=[0]), "answer"),
        (true_false(answer="true"), "answer"),
    ],
)
def test_invalid_content_names_the_field(content: QuestionContent, field: str) -> None:
    assert field in fields(validate(content))


def test_unknown_type_is_an_error_not_an_exception() -> None:
    errors = validate(single(type="essay"))
    assert fields(errors) == ["type"]
    assert "essay" in str(errors[0].reason)
    assert grade(single(type="essay"), [0]) == 0.0


def test_reasons_are_lazy_english_outside_an_app() -> None:
    [error] = validate(single(answer=[0, 1]))
    assert str(error.reason) == "A single-choice question needs exactly one correct option."


def test_grade_single() -> None:
    assert grade(single(), [0]) == 1.0
    assert grade(single(), [1]) == 0.0
    assert grade(single(), 0) == 1.0
    assert grade(single(), ["0"]) == 1.0
    assert grade(single(), []) == 0.0


def test_grade_multiple_is_all_or_nothing_by_default() -> None:
    assert grade(multiple(), [0, 1]) == 1.0
    assert grade(multiple(), [1, 0]) == 1.0
    assert grade(multiple(), [0]) == 0.0
    assert grade(multiple(), [0, 1, 2]) == 0.0
    assert grade(multiple(), []) == 0.0


def test_multiple_with_partial_credit() -> None:
    half = MultipleChoice(partial_credit=0.5)
    assert half.grade(multiple(), [0]) == 0.5
    assert half.grade(multiple(), [0, 2]) == 0.0
    assert half.grade(multiple(), [0, 1]) == 1.0
    assert half.grade(multiple(), []) == 0.0
    with pytest.raises(ValueError):
        MultipleChoice(partial_credit=1.0)


def test_grade_true_false() -> None:
    assert grade(true_false(), False) == 1.0
    assert grade(true_false(), True) == 0.0
    assert grade(true_false(), "false") == 1.0
    assert grade(true_false(), 0) == 1.0


@pytest.mark.parametrize(
    "response",
    [None, "x", "", 1.0, -1, 3, 99, [0, 0], [[0]], {"a": 1}, True, [True], ["A"], b"0", [0, 1]],
)
def test_malformed_choice_responses_score_zero(response: object) -> None:
    assert grade(single(), response) == 0.0


@pytest.mark.parametrize("response", [None, "maybe", 2, [True], 0.0, {"x": 1}, "", []])
def test_malformed_true_false_responses_score_zero(response: object) -> None:
    assert grade(true_false(answer=True), response) == 0.0
    assert grade(true_false(answer=False), response) == 0.0


def test_malformed_content_scores_zero() -> None:
    assert grade(single(answer="A"), [0]) == 0.0
    assert grade(multiple(options=None), [0]) == 0.0
    assert grade(true_false(answer=None), True) == 0.0


def test_normalise_response() -> None:
    choose = get_type("multiple")
    assert choose.normalise_response(["2", 0]) == [0, 2]
    assert choose.normalise_response(3) == [3]
    assert choose.normalise_response([]) == []
    for garbage in (True, None, -1, "a", 1.5, [0, 0], [[0]], "６", {"0": 1}, [6]):
        with pytest.raises(ValueError):
            choose.normalise_response(garbage)
    with pytest.raises(ValueError):
        choose.normalise_response([3], option_count=3)
    with pytest.raises(ValueError):
        get_type("single").normalise_response([0, 1])
    yes_no = get_type("true_false")
    assert yes_no.normalise_response(" TRUE ") is True
    assert yes_no.normalise_response("f") is False
    assert yes_no.normalise_response(1) is True
    for garbage in ("maybe", 2, None, [True], 1.0):
        with pytest.raises(ValueError):
            yes_no.normalise_response(garbage)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10) | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children)
    ),
    max_leaves=10,
)


@given(response=json_values)
def test_grade_never_raises_and_stays_in_range(response: object) -> None:
    for content in (single(), multiple(), true_false()):
        score = grade(content, response)
        assert 0.0 <= score <= 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A", [0]),
        ("ABD", [0, 1, 3]),
        ("A,B,D", [0, 1, 3]),
        ("A、B、D", [0, 1, 3]),
        ("a, b ,d", [0, 1, 3]),
        ("ＡＢＤ", [0, 1, 3]),
        ("A，B，D", [0, 1, 3]),
        ("D B", [1, 3]),
    ],
)
def test_choice_answer_text(text: str, expected: list[int]) -> None:
    assert get_type("multiple").parse_answer_text(text, 4) == expected


@pytest.mark.parametrize("text", ["", "G", "AA", "E", "1", "A+B"])
def test_bad_choice_answer_text(text: str) -> None:
    with pytest.raises(AnswerTextError):
        get_type("multiple").parse_answer_text(text, 4)


class YesNoRating(QuestionType):
    """A toy type, registered only inside one test, to show a type needs no edits elsewhere."""

    key = "yes_no"
    label = lazy_gettext("Yes/no")
    aliases: ClassVar[tuple[str, ...]] = ("是否题",)

    def validate_answer(self, content: QuestionContent) -> list[ContentError]:
        ok = content.options == ["是", "否"] and content.answer in ([0], [1])
        return [] if ok else [ContentError("answer", lazy_gettext("Bad yes/no"))]

    def normalise_response(self, raw: object, option_count: int | None = None) -> list[int]:
        if raw in ("是", "否"):
            return [0] if raw == "是" else [1]
        raise ValueError(raw)

    def score(self, content: QuestionContent, response: object) -> float:
        return 1.0 if response == content.answer else 0.0

    def parse_answer_text(self, text: str, option_count: int) -> list[int]:
        return self.normalise_response(text.strip())

    def format_answer_text(self, answer: object, language: str = "zh") -> str:
        return "是" if answer == [0] else "否"


def test_a_new_type_plugs_in_without_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(types._registry, "yes_no", YesNoRating())
    content = QuestionContent(type="yes_no", stem="戴安全帽？", options=["是", "否"], answer=[0])
    assert validate(content) == []
    assert grade(content, "是") == 1.0
    assert grade(content, "否") == 0.0
    assert grade(content, 42) == 0.0
    csv = "题型,题干,选项A,选项B,答案\n是否题,戴安全帽？,是,否,是\n".encode()
    result = parse(csv, "bank.csv")
    assert result.errors == []
    assert [q.content for q in result.questions] == [content]
