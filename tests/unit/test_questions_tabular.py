"""The spreadsheet template: CSV (UTF-8, UTF-8 BOM, GBK) and XLSX, every accepted spelling."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from trainer.questions.exporters import export_questions, make_template, template_filename
from trainer.questions.importers import ImportLimits, parse
from trainer.questions.importers.tabular import parse_csv, parse_xlsx
from trainer.questions.spreadsheet import example_questions
from trainer.questions.types import QuestionContent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questions"

EXPECTED_BANK = [
    QuestionContent(
        type="single",
        stem="安全帽的主要作用是（ ）。",
        options=["防止物体打击伤害", "防寒保暖", "装饰美观", "便于识别身份"],
        answer=[0],
        explanation="安全帽用于防止坠落物和飞溅物对头部的伤害。",
        category="通用安全/个体防护",
        difficulty="easy",
    ),
    QuestionContent(
        type="multiple",
        stem="动火作业前应当做好哪些准备？",
        options=["办理动火作业许可", "清除周围可燃物", "配备灭火器材", "关闭通风设施"],
        answer=[0, 1, 2],
        explanation="动火作业要审批、清理可燃物并备好消防器材。",
        category="危险作业/动火作业",
        difficulty="medium",
    ),
    QuestionContent(
        type="true_false",
        stem="在有限空间作业时，可以用纯氧进行通风换气。",
        answer=False,
        explanation="用纯氧通风会增加火灾爆炸风险，应使用新鲜空气。",
        category="危险作业/有限空间",
        difficulty="hard",
    ),
]


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize("name", ["bank_utf8.csv", "bank_utf8_bom.csv", "bank_gbk.csv"])
def test_csv_encodings(name: str) -> None:
    result = parse((FIXTURES / name).read_bytes(), name)
    assert result.format == "csv"
    assert result.errors == [] and result.warnings == []
    assert [q.content for q in result.questions] == EXPECTED_BANK
    assert [str(q.location) for q in result.questions] == ["row 2", "row 3", "row 4"]
    assert result.categories == ["通用安全/个体防护", "危险作业/动火作业", "危险作业/有限空间"]


def test_bad_rows_are_reported_with_row_field_and_reason() -> None:
    result = parse((FIXTURES / "bank_errors.csv").read_bytes(), "bank_errors.csv")
    found = [(e.location.number if e.location else None, e.field) for e in result.errors]
    assert found == [
        (3, "type"),
        (4, "answer"),
        (5, "option_b"),
        (6, "answer"),
        (7, "difficulty"),
        (8, "answer"),
    ]
    assert [q.location.number for q in result.questions] == [2]
    assert not result.ok
    described = [str(e) for e in result.errors]
    assert described[0] == (
        "bank_errors.csv, row 3, type: Unknown question type “essay”; use 单选题, 多选题 or 判断题."
    )
    assert (
        described[5] == "bank_errors.csv, row 8, answer: The answer names option D, which is empty."
    )
    assert all(e.file == "bank_errors.csv" for e in result.errors)


def test_xlsx_made_with_openpyxl() -> None:
    rows: list[list[object]] = [
        [],
        ["题型", "题干", "选项A", "选项B", "选项C", "答案", "解析", "分类", "难度", "备注"],
        ["单选题", "  安全电压一般不超过多少伏？ ", 36, 220, 380, "A", None, "电工", 1, "x"],
        [None, None, None, None, None, None, None, None, None, None],
        ["判断题", "高处作业应系安全带。", None, None, None, True, "", "", 2.0, None],
        [
            "多选",
            "灭火的基本方法有",
            "冷却",
            "窒息",
            "隔离",
            "a、b、c",
            "",
            "消防 / 灭火",
            "难",
            None,
        ],
    ]
    result = parse(xlsx_bytes(rows), "题库.xlsx")
    assert result.format == "xlsx"
    assert result.errors == []
    assert [str(w.reason) for w in result.warnings] == [
        "Column “备注” is not used and was ignored."
    ]
    assert [q.location.number for q in result.questions] == [3, 5, 6]
    first, second, third = (q.content for q in result.questions)
    assert first.stem == "安全电压一般不超过多少伏？"
    assert first.options == ["36", "220", "380"]
    assert (first.difficulty, first.category) == ("easy", "电工")
    assert (second.answer, second.difficulty) == (True, "medium")
    assert (third.answer, third.category, third.difficulty) == ([0, 1, 2], "消防/灭火", "hard")


def test_xlsx_rows_far_below_are_read_without_walking_a_million_rows() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["type", "stem", "option_a", "option_b", "answer"])
    sheet.append(["single", "Q1", "a", "b", "A"])
    sheet.cell(row=200_000, column=1, value="single")
    sheet.cell(row=200_000, column=2, value="Far down")
    sheet.cell(row=200_000, column=3, value="a")
    sheet.cell(row=200_000, column=4, value="b")
    sheet.cell(row=200_000, column=5, value="B")
    out = io.BytesIO()
    workbook.save(out)
    result = parse_xlsx(out.getvalue(), "far.xlsx")
    assert result.errors == []
    assert [q.location.number for q in result.questions] == [2, 200_000]


HEADER_SETS = {
    "zh": ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "分类", "难度"],
    "en": [
        "type",
        "stem",
        "option_a",
        "option_b",
        "option_c",
        "option_d",
        "answer",
        "explanation",
        "category",
        "difficulty",
    ],
    "odd": [
        " 题型 ",
        "题干",
        "选项Ａ",
        "Option_B",
        "选项 C",
        "OPTION D",
        "ANSWER",
        "解析",
        "Category",
        "难度",
    ],
}


@pytest.mark.parametrize("headers", HEADER_SETS.values(), ids=HEADER_SETS.keys())
@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
def test_header_spellings(headers: list[str], make: object) -> None:
    rows = [headers, ["单选题", "问题", "甲", "乙", "", "", "B", "", "", ""]]
    data = make(rows)  # type: ignore[operator]
    result = parse(data, "bank")
    assert result.errors == []
    assert [q.content.answer for q in result.questions] == [[1]]


TYPE_SPELLINGS = {
    "single": ["单选题", "单选", "single", " Single ", "ＳＩＮＧＬＥ", "单选题 "],
    "multiple": ["多选题", "多选", "multiple", "MULTIPLE", "ｍｕｌｔｉｐｌｅ"],
    "true_false": ["判断题", "判断", "true_false", "TRUE_FALSE", "true-false"],
}
CHOICE_ANSWERS = {
    "A": [0],
    "ABD": [0, 1, 3],
    "A,B,D": [0, 1, 3],
    "A、B、D": [0, 1, 3],
    "abd": [0, 1, 3],
    "ＡＢＤ": [0, 1, 3],
    "A，B，D": [0, 1, 3],
    " A, B, D ": [0, 1, 3],
}
TRUE_FALSE_ANSWERS = {
    "对": True,
    "错": False,
    "正确": True,
    "错误": False,
    "T": True,
    "F": False,
    "t": True,
    "f": False,
    "true": True,
    "false": False,
    "TRUE": True,
    "False": False,
    "√": True,
    "×": False,
    "是": True,
    "否": False,
    "Ｔ": True,
}
DIFFICULTIES = {
    "易": "easy",
    "中": "medium",
    "难": "hard",
    "简单": "easy",
    "中等": "medium",
    "困难": "hard",
    "easy": "easy",
    "Medium": "medium",
    "HARD": "hard",
    "1": "easy",
    "2": "medium",
    "3": "hard",
    "": "medium",
    " ": "medium",
    "１": "easy",
}


def one_row_csv(type_cell: str, answer: str, difficulty: str = "", options: int = 4) -> bytes:
    option_cells = ["甲", "乙", "丙", "丁"][:options] + [""] * (4 - options)
    return csv_bytes(
        [HEADER_SETS["zh"], [type_cell, "题干", *option_cells, answer, "", "", difficulty]]
    )


@pytest.mark.parametrize(
    ("spelling", "key"), [(s, k) for k, spellings in TYPE_SPELLINGS.items() for s in spellings]
)
def test_every_type_spelling(spelling: str, key: str) -> None:
    answer, options = {"single": ("A", 4), "multiple": ("AB", 4), "true_false": ("对", 0)}[key]
    result = parse(one_row_csv(spelling, answer, options=options), "t.csv")
    assert result.errors == []
    assert result.questions[0].content.type == key


@pytest.mark.parametrize(("answer", "expected"), CHOICE_ANSWERS.items())
def test_every_choice_answer_spelling(answer: str, expected: list[int]) -> None:
    result = parse(one_row_csv("多选题", answer), "t.csv")
    assert result.errors == []
    assert result.questions[0].content.answer == expected


@pytest.mark.parametrize(("answer", "expected"), TRUE_FALSE_ANSWERS.items())
def test_every_true_false_answer_spelling(answer: str, expected: bool) -> None:
    result = parse(one_row_csv("判断题", answer, options=0), "t.csv")
    assert result.errors == []
    assert result.questions[0].content.answer is expected


@pytest.mark.parametrize(("difficulty", "expected"), DIFFICULTIES.items())
def test_every_difficulty_spelling(difficulty: str, expected: str) -> None:
    result = parse(one_row_csv("单选题", "A", difficulty), "t.csv")
    assert result.errors == []
    assert result.questions[0].content.difficulty == expected


def test_single_with_two_answers_and_true_false_with_options_are_errors() -> None:
    rows = [
        HEADER_SETS["zh"],
        ["单选题", "问", "甲", "乙", "", "", "AB", "", "", ""],
        ["判断题", "问", "对", "错", "", "", "对", "", "", ""],
        ["判断题", "问", "", "", "", "", "A", "", "", ""],
    ]
    result = parse(csv_bytes(rows), "t.csv")
    assert [(e.location.number, e.field) for e in result.errors if e.location] == [
        (2, "answer"),
        (3, "options"),
        (4, "answer"),
    ]
    assert result.questions == []


def test_missing_and_duplicate_headers() -> None:
    result = parse(csv_bytes([["题型", "题干"], ["单选题", "问"]]), "t.csv")
    assert [e.field for e in result.errors] == ["header"]
    assert "missing: answer" in str(result.errors[0].reason)
    result = parse(
        csv_bytes([["题型", "题干", "答案", "type"], ["单选题", "问", "A", "x"]]), "t.csv"
    )
    assert "appears twice" in str(result.errors[0].reason)


def test_header_only_and_blank_files() -> None:
    header_only = parse(csv_bytes([HEADER_SETS["zh"]]), "t.csv")
    assert header_only.ok and header_only.questions == []
    blank = parse(b"\n\n ,,\n", "t.csv", format="csv")
    assert [str(e.reason) for e in blank.errors] == ["The file has no header row and no questions."]


def test_semicolon_and_tab_separated_csv() -> None:
    for separator in (";", "\t"):
        text = separator.join(["题型", "题干", "选项A", "选项B", "答案"]) + "\n"
        text += separator.join(["单选题", "问, 带逗号", "甲", "乙", "B"]) + "\n"
        result = parse(text.encode(), "t.csv", format="csv")
        assert result.errors == []
        assert result.questions[0].content.stem == "问, 带逗号"


def test_question_limit() -> None:
    rows = [HEADER_SETS["en"]] + [
        ["single", f"Q{i}", "a", "b", "", "", "A", "", "", ""] for i in range(5)
    ]
    result = parse(csv_bytes(rows), "t.csv", limits=ImportLimits(max_questions=3))
    assert "more than 3 questions" in str(result.errors[0].reason)


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_template_downloads_parse_cleanly(language: str, file_format: str) -> None:
    data = make_template(file_format, language)
    result = parse(data, template_filename(file_format, language))
    assert result.format == file_format
    assert result.errors == [] and result.warnings == []
    assert [q.content for q in result.questions] == example_questions(language)
    assert [q.content.type for q in result.questions] == ["single", "multiple", "true_false"]


def test_template_headers_and_extras() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(make_template("xlsx", "zh")))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "题型",
        "题干",
        "选项A",
        "选项B",
        "选项C",
        "选项D",
        "选项E",
        "选项F",
        "答案",
        "解析",
        "分类",
        "难度",
    ]
    assert sheet["A2"].value == "单选题" and sheet["I3"].value == "ABC"
    assert sheet["I4"].value == "正确" and sheet["L2"].value == "简单"
    assert workbook.sheetnames == ["题库", "说明"]
    assert len(sheet.data_validations.dataValidation) == 2
    english = openpyxl.load_workbook(io.BytesIO(make_template("xlsx", "en"))).worksheets[0]
    assert english["A1"].value == "type" and english["C1"].value == "option_a"
    csv_template = make_template("csv", "zh")
    assert csv_template.startswith(b"\xef\xbb\xbf")  # BOM, so that Excel reads UTF-8
    assert csv_template.decode("utf-8-sig").splitlines()[0].startswith("题型,题干,选项A")


def test_formula_like_cells_survive_and_are_not_formulas() -> None:
    question = QuestionContent(
        type="single",
        stem='=HYPERLINK("http://evil")',
        options=["-5℃", "+5℃", "@home"],
        answer=[0],
    )
    csv_data = export_questions([question], "csv")
    assert "'=HYPERLINK" in csv_data.decode("utf-8-sig")
    assert "'-5℃" in csv_data.decode("utf-8-sig")
    xlsx_data = export_questions([question], "xlsx")
    cell = openpyxl.load_workbook(io.BytesIO(xlsx_data)).worksheets[0]["B2"]
    assert cell.data_type == "s"
    for data, name in ((csv_data, "x.csv"), (xlsx_data, "x.xlsx")):
        result = parse(data, name)
        assert result.errors == []
        assert [q.content for q in result.questions] == [question]


def test_parse_functions_also_work_directly() -> None:
    data = (FIXTURES / "bank_utf8.csv").read_bytes()
    assert [q.content for q in parse_csv(data, "b.csv").questions] == EXPECTED_BANK
