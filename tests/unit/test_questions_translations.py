"""Chinese translations of the question messages: complete, compiled, used by Flask-Babel.

The catalogue is trainer/questions/translations/zh (not zh_CN: Flask-Babel turns the UI locale
zh_CN into Babel's zh_Hans_CN, and gettext then looks for the folders zh_Hans_CN and zh only).
Refresh it from the repository root:

    pybabel extract -o /tmp/q.pot trainer/questions
    pybabel update -d trainer/questions/translations -l zh -i /tmp/q.pot
    (translate every empty msgstr, drop any "#, fuzzy")
    pybabel compile -d trainer/questions/translations
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel

from trainer.questions.importers import parse

PACKAGE = Path(__file__).resolve().parents[2] / "trainer" / "questions"
TRANSLATIONS = PACKAGE / "translations"
MESSAGES = TRANSLATIONS / "zh" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def po_catalog() -> dict[str, str]:
    with (MESSAGES / "messages.po").open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id and isinstance(m.id, str)}


def test_every_message_in_the_code_has_a_chinese_translation() -> None:
    translated = po_catalog()
    in_code = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(str(PACKAGE))
        if isinstance(message, str)
    }
    assert in_code, "nothing extracted"
    untranslated = sorted(m for m in in_code if not translated.get(m))
    assert untranslated == [], "run pybabel extract/update and translate these"


def test_translations_keep_their_placeholders() -> None:
    for message, translation in po_catalog().items():
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(translation)), (
            message
        )
        if PLACEHOLDER.sub("", message).strip(" ,:"):  # not just "%(file)s, %(field)s: ..."
            assert re.search(r"[\u4e00-\u9fff]", translation), message


def test_compiled_catalog_matches_the_po_file() -> None:
    with (MESSAGES / "messages.mo").open("rb") as mo:
        compiled = {m.id: m.string for m in read_mo(mo) if m.id}
    assert compiled == po_catalog(), "run pybabel compile -d trainer/questions/translations"


def test_no_catalogue_folder_is_named_zh_cn() -> None:
    assert sorted(p.name for p in TRANSLATIONS.iterdir() if p.is_dir()) == ["zh"]


def test_errors_render_in_chinese_inside_an_app_and_english_outside() -> None:
    data = "题型,题干,选项A,选项B,答案\n问答题,问,甲,乙,A\n".encode()
    [error] = parse(data, "题库.csv").errors
    english = "题库.csv, row 2, type: Unknown question type “问答题”; use 单选题, 多选题 or 判断题."
    assert str(error) == english
    app = Flask(__name__)
    Babel(
        app,
        locale_selector=lambda: "zh_CN",
        default_translation_directories=str(TRANSLATIONS),
    )
    with app.test_request_context():
        assert (
            str(error)
            == "题库.csv，第 2 行，题型：无法识别的题型“问答题”，请填写 单选题、多选题 或 判断题。"
        )
    assert str(error) == english
