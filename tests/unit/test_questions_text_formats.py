"""GIFT and Aiken importers on our own fixtures and on edge cases."""

from __future__ import annotations

from pathlib import Path

from trainer.questions.importers import parse
from trainer.questions.importers.aiken import parse_aiken
from trainer.questions.importers.gift import parse_gift
from trainer.questions.types import QuestionContent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questions"


def test_gift_sample() -> None:
    result = parse((FIXTURES / "sample.gift").read_bytes(), "sample.gift")
    assert result.format == "gift"
    assert result.errors == [] and result.warnings == []
    assert result.categories == ["电工作业/低压电工"]
    assert [(q.name, q.location.number) for q in result.questions] == [
        ("触电急救", 5),
        ("漏电保护", 12),
        ("接地", 18),
        ("Escaped {braces} and a colon: are text…", 23),
    ]
    first, second, third, fourth = (q.content for q in result.questions)
    assert first == QuestionContent(
        type="single",
        stem="发现有人触电，首先应当",
        options=["使触电者尽快脱离电源", "立即进行心肺复苏", "拨打电话后等待"],
        answer=[0],
        explanation="先断电，防止施救者触电。",
        category="电工作业/低压电工",
        difficulty="easy",
    )
    assert (second.type, second.answer, second.difficulty) == ("multiple", [0, 1], "medium")
    assert (third.type, third.answer) == ("true_false", True)
    assert fourth.stem == "Escaped {braces} and a colon: are text here."
    assert (fourth.options, fourth.answer) == (["a = b", "a ~ b"], [1])
    [unsupported] = result.unsupported
    assert (unsupported.name, unsupported.kind, unsupported.location.number) == (
        "安全电压",
        "shortanswer",
        21,
    )


def test_gift_errors_have_lines() -> None:
    result = parse((FIXTURES / "bad.gift").read_bytes(), "bad.gift")
    assert [(e.location.number, e.field) for e in result.errors if e.location] == [
        (1, "answer"),
        (3, "options"),
        (5, "grades"),
    ]
    assert str(result.errors[2].reason) == (
        "Invalid grades: the positive grades add up to 80%, not 100%."
    )
    assert result.questions == []


def test_gift_details() -> None:
    text = "\r\n".join(
        [
            "$CATEGORY: $course$/top/消防 [id:fire-1]",
            "",
            "// difficulty: 难",
            "::html::[html]<p>Pick &amp; <b>choose</b></p>{",
            "  =[plain]<b>kept</b> # feedback is dropped",
            "  ~%50%half",
            "  ~%0%[markdown]**md**",
            "  #### general [feedback]",
            "}",
            "",
            "Grant is {~buried =entombed ~living} in Grant's tomb.",
            "",
            "// difficulty: impossible",
            "Is it {true}?",
            "",
            "Line one\\nline two {F}",
            "",
            "Stray text only, no braces",
        ]
    )
    result = parse_gift(text.encode("gb18030"), "x.gift")
    assert result.errors == []
    assert result.categories == ["消防"]
    html, missing_word, lower_true, newline = (q.content for q in result.questions)
    assert html.stem == "Pick & choose"
    assert html.options == ["<b>kept</b>", "half", "**md**"]
    assert (html.answer, html.difficulty, html.explanation) == ([0], "hard", "general [feedback]")
    assert missing_word.stem == "Grant is _____ in Grant's tomb."
    assert lower_true.answer is True and lower_true.difficulty == "medium"
    assert newline.stem == "Line one\nline two" and newline.answer is False
    warnings = [(w.location.number if w.location else 0, w.field) for w in result.warnings]
    assert warnings == [(4, "grades"), (13, "difficulty")]
    assert [u.kind for u in result.unsupported] == ["description"]


def test_aiken_sample_and_errors() -> None:
    result = parse((FIXTURES / "sample.aiken.txt").read_bytes(), "sample.aiken.txt")
    assert result.format == "aiken"
    assert result.errors == []
    assert [(q.content.answer, q.location.number) for q in result.questions] == [([1], 1), ([0], 8)]
    assert result.questions[0].content.options == ["火焰上部", "火焰根部", "火焰中部", "烟雾最浓处"]
    bad = parse_aiken((FIXTURES / "bad.aiken.txt").read_bytes(), "bad.aiken.txt")
    assert [str(e.reason) for e in bad.errors] == [
        "The answer “Z” on line 4 is not one of the options",
        "Question not completed before the end of the file on line 6",
    ]
    assert bad.questions == []
