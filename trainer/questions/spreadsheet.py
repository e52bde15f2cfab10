"""The spreadsheet template (XLSX and CSV): its columns, headers and cell spellings.

One row per question. Headers may be Chinese or English:

=========  ==============================  ==================================================
column     headers                         values
=========  ==============================  ==================================================
type       题型 / type                      单选题|单选|single, 多选题|多选|multiple,
                                           判断题|判断|true_false
stem       题干 / stem                      text
option_a   选项A .. 选项F / option_a .. _f  text; filled from A without gaps; blank for 判断题
answer     答案 / answer                    A, ABD, A,B,D, A、B、D; 判断题: 对/错, 正确/错误, T/F,
                                           true/false, √/×, 是/否
explanation 解析 / explanation              text (optional)
category   分类 / category                  path such as 电工作业/低压电工 (optional)
difficulty 难度 / difficulty                易/中/难, 简单/中等/困难, easy/medium/hard, 1/2/3;
                                           blank means medium
=========  ==============================  ==================================================

Headers, types, answers and difficulties are compared after trimming, folding full-width
characters to half-width and ignoring case, spaces, ``_`` and ``-``.
"""

from __future__ import annotations

import re

from trainer.questions.text import fold
from trainer.questions.types import (
    DEFAULT_DIFFICULTY,
    MAX_OPTIONS,
    OPTION_LETTERS,
    QuestionContent,
    get_type,
)

OPTION_COLUMNS = tuple(f"option_{letter.lower()}" for letter in OPTION_LETTERS)
COLUMNS = ("type", "stem", *OPTION_COLUMNS, "answer", "explanation", "category", "difficulty")
REQUIRED_COLUMNS = ("type", "stem", "answer")
LANGUAGES = ("zh", "en")

HEADERS: dict[str, dict[str, str]] = {
    "zh": {
        "type": "题型",
        "stem": "题干",
        **{f"option_{x.lower()}": f"选项{x}" for x in OPTION_LETTERS},
        "answer": "答案",
        "explanation": "解析",
        "category": "分类",
        "difficulty": "难度",
    },
    "en": {column: column for column in COLUMNS},
}

_EXTRA_HEADER_SPELLINGS: dict[str, tuple[str, ...]] = {
    "type": ("题目类型", "类型", "question type"),
    "stem": ("题目", "试题", "question"),
    "answer": ("正确答案", "标准答案"),
    "explanation": ("答案解析", "试题解析"),
    "category": ("类别", "知识点"),
}


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for language in LANGUAGES:
        for column, header in HEADERS[language].items():
            index[fold(header)] = column
    for column, spellings in _EXTRA_HEADER_SPELLINGS.items():
        for spelling in spellings:
            index[fold(spelling)] = column
    for letter in OPTION_LETTERS:
        column = f"option_{letter.lower()}"
        for spelling in (letter, f"选项 {letter}", f"option {letter}"):
            index[fold(spelling)] = column
    return index


_HEADERS_BY_FOLDED = _header_index()


def header_column(text: str) -> str | None:
    """The column a header cell names, or None when it is not one of ours."""
    return _HEADERS_BY_FOLDED.get(fold(text))


_DIFFICULTY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "easy": ("易", "简单", "容易", "easy", "1"),
    "medium": ("中", "中等", "一般", "medium", "2"),
    "hard": ("难", "困难", "hard", "3"),
}
_DIFFICULTY_BY_FOLDED = {
    fold(spelling): key
    for key, spellings in _DIFFICULTY_SPELLINGS.items()
    for spelling in spellings
}
DIFFICULTY_TEXT = {
    "zh": {"easy": "简单", "medium": "中等", "hard": "困难"},
    "en": {"easy": "easy", "medium": "medium", "hard": "hard"},
}


def parse_difficulty(text: str) -> str | None:
    """``easy``/``medium``/``hard`` for a cell; blank is medium; None when unrecognised."""
    folded = fold(text)
    if not folded:
        return DEFAULT_DIFFICULTY
    if folded.endswith(".0"):  # 2.0 from a numeric spreadsheet cell
        folded = folded[:-2]
    return _DIFFICULTY_BY_FOLDED.get(folded)


_CATEGORY_SEPARATORS = re.compile(r"[/／\\]")


def normalise_category(text: str) -> str:
    """``" 电工作业 ／ 低压电工 "`` → ``"电工作业/低压电工"``.

    Segments are trimmed and inner runs of spaces collapsed; empty segments are dropped.
    """
    parts = (" ".join(part.split()) for part in _CATEGORY_SEPARATORS.split(text))
    return "/".join(part for part in parts if part)


def type_text(type_key: str, language: str) -> str:
    """How the template writes a type: its first Chinese alias, or its key in English."""
    question_type = get_type(type_key)
    if language == "zh" and question_type.aliases:
        return question_type.aliases[0]
    return question_type.key


def question_row(content: QuestionContent, language: str = "zh") -> list[str]:
    """A question as the cells of one template row, in COLUMNS order."""
    question_type = get_type(content.type)
    options = list(content.options) + [""] * (MAX_OPTIONS - len(content.options))
    return [
        type_text(content.type, language),
        content.stem,
        *options[:MAX_OPTIONS],
        question_type.format_answer_text(content.answer, language),
        content.explanation,
        content.category,
        DIFFICULTY_TEXT[language][content.difficulty],
    ]


def example_questions(language: str = "zh") -> list[QuestionContent]:
    """The three example rows of the downloadable template, one per built-in type."""
    if language == "zh":
        return [
            QuestionContent(
                type="single",
                stem="发生电气火灾时，首先应当（ ）。",
                options=["切断电源", "用水扑救", "打开门窗通风", "离开现场等待救援"],
                answer=[0],
                explanation="带电灭火有触电危险，应先切断电源，再用干粉等不导电的灭火器扑救。",
                category="电工作业/电气防火",
                difficulty="easy",
            ),
            QuestionContent(
                type="multiple",
                stem="申请特种作业操作证的人员应当符合的条件有（ ）。",
                options=[
                    "年满18周岁，且不超过国家法定退休年龄",
                    "经体检健康合格，无妨碍从事相应特种作业的疾病和生理缺陷",
                    "具有初中及以上文化程度",
                    "具有大学本科及以上学历",
                ],
                answer=[0, 1, 2],
                explanation="见《特种作业人员安全技术培训考核管理规定》第四条；不要求大学学历。",
                category="安全生产法规",
                difficulty="medium",
            ),
            QuestionContent(
                type="true_false",
                stem="特种作业操作证每3年复审1次。",
                answer=True,
                explanation="《特种作业人员安全技术培训考核管理规定》第二十一条。",
                category="安全生产法规",
                difficulty="easy",
            ),
        ]
    return [
        QuestionContent(
            type="single",
            stem="In an electrical fire, what should you do first?",
            options=["Cut off the power", "Put it out with water", "Open the windows", "Leave"],
            answer=[0],
            explanation="Fighting a live electrical fire risks electric shock: isolate it first.",
            category="Electrical work/Fire safety",
            difficulty="easy",
        ),
        QuestionContent(
            type="multiple",
            stem="Which are conditions for a special operations certificate?",
            options=[
                "Aged 18 or over and below the statutory retirement age",
                "Medically fit for the work",
                "Junior secondary education or above",
                "A university degree",
            ],
            answer=[0, 1, 2],
            explanation="No university degree is required.",
            category="Safety regulations",
            difficulty="medium",
        ),
        QuestionContent(
            type="true_false",
            stem="A special operations certificate is reviewed every 3 years.",
            answer=True,
            explanation="The certificate is reviewed once every three years.",
            category="Safety regulations",
            difficulty="easy",
        ),
    ]
