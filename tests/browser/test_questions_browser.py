"""An instructor on a phone: creates a bank, uploads a file of each format, checks the preview,
sees clear errors for a broken file, confirms, finds the questions and marks them ready."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import horizontal_overflow, login
from tests.conftest import PASSWORD
from trainer.questions.exporters import make_template

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questions"


@pytest.fixture(autouse=True)
def _upload_dir(app: Any, tmp_path: Path) -> Any:
    """Uploads waiting for confirmation go to a temporary folder, not the instance folder."""
    before = app.config.get("QUESTION_UPLOAD_DIR")
    app.config["QUESTION_UPLOAD_DIR"] = str(tmp_path / "question_uploads")
    yield
    app.config["QUESTION_UPLOAD_DIR"] = before


def upload(page, path: Path) -> None:
    page.click("[data-testid=import]")
    page.set_input_files("#file", str(path))
    page.click("[data-testid=upload]")
    page.wait_for_selector("[data-testid=summary]")


def count(page, name: str) -> int:
    return int(page.locator(f"[data-testid=count-{name}]").inner_text())


def test_instructor_imports_every_format_on_a_phone(phone, people, tmp_path):
    page = phone
    login(page, people["instructor_login"], PASSWORD)
    page.click("[data-testid=home-questions]")
    page.click("[data-testid=new-bank]")
    page.fill("#name", "低压电工题库")
    page.fill("#certificate_types", "1.2")
    page.click("[data-testid=save-bank]")
    page.wait_for_selector("[data-testid=import]")
    assert horizontal_overflow(page) == 0

    template = tmp_path / "题库导入模板.xlsx"
    template.write_bytes(make_template("xlsx", "zh"))
    files = [template, FIXTURES / "sample.gift", FIXTURES / "sample.aiken.txt",
             FIXTURES / "sample_moodle.xml", FIXTURES / "bank_gbk.csv"]
    formats = ["Excel (XLSX)", "GIFT", "Aiken", "Moodle XML", "CSV"]
    imported = 0
    for path, label in zip(files, formats, strict=True):
        upload(page, path)
        assert page.locator("[data-testid=format]").inner_text() == label
        questions = count(page, "questions")
        assert questions > 0
        assert page.locator("[data-testid=preview-question]").count() == min(questions, 100)
        assert horizontal_overflow(page) == 0, label
        page.screenshot(path=str(tmp_path / f"preview-{path.name}.png"), full_page=True)
        if count(page, "errors"):
            page.check("[data-testid=only-valid]")
        imported += questions - count(page, "duplicates")
        page.click("[data-testid=confirm]")
        page.wait_for_selector(".flash-success")
        assert "已导入" in page.locator(".flash-success").inner_text()
    total = page.locator("[data-testid=total]").inner_text()
    assert str(imported) in total

    # A deliberately broken file: every problem with its line, field and reason, in Chinese.
    upload(page, FIXTURES / "bad.gift")
    assert count(page, "errors") == 3
    errors = page.locator("[data-testid=import-error]")
    assert errors.count() == 3
    first = errors.first.inner_text()
    assert "bad.gift" in first and "第 1 行" in first
    assert horizontal_overflow(page) == 0
    page.screenshot(path=str(tmp_path / "preview-errors.png"), full_page=True)
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".flash-error")
    assert "没有导入任何试题" in page.locator(".flash-error").inner_text()
    page.click("[data-testid=cancel]")
    page.wait_for_selector("[data-testid=total]")
    assert page.locator("[data-testid=total]").inner_text() == total

    # Find a question by its text, mark it ready.
    page.fill("#q", "首先应当")
    page.click("[data-testid=search]")
    page.wait_for_selector("[data-testid=question]")
    found = page.locator("[data-testid=question]")
    assert found.count() >= 1
    assert "草稿" in found.first.locator("[data-testid=status]").inner_text()
    found.first.locator("input[name=question_ids]").check()
    page.click("[data-testid=mark-ready]")
    page.wait_for_selector(".flash-success")
    assert "可用" in page.locator("[data-testid=question]").first.locator(
        "[data-testid=status]").inner_text()
    assert horizontal_overflow(page) == 0


def test_edit_with_live_preview_on_a_phone(phone, people, app):
    from trainer.db import db
    from trainer.questions import services
    from trainer.questions.types import QuestionContent

    with app.app_context():
        bank, _created = services.ensure_bank("焊接题库", None)
        question = services.add_question(bank, QuestionContent(
            type="single", stem="焊工作业前应检查？", options=["焊机接地", "天气"], answer=[0]),
            None)
        db.session.commit()
        question_id = question.id
    page = phone
    login(page, people["instructor_login"], PASSWORD)
    page.goto(f"/questions/{question_id}/edit")
    preview = page.locator("[data-testid=live-preview]")
    assert "焊机接地" in preview.inner_text()
    page.fill("#stem", "焊接作业前必须检查哪些项目？")
    page.select_option("#type", "multiple")
    page.fill("#option_c", "灭火器")
    page.check("input[name=correct][value=C]")
    assert "焊接作业前必须检查哪些项目？" in preview.inner_text()
    assert preview.locator("li.correct").count() == 2
    page.select_option("#type", "true_false")
    assert page.locator("#option_a").is_hidden()
    page.select_option("#type", "multiple")
    assert horizontal_overflow(page) == 0
    page.click("[data-testid=save-question]")
    page.wait_for_selector(".flash-success")
    assert "第 2 版" in page.locator(".flash-success").inner_text()
    assert page.locator("[data-testid=versions] details").count() == 2
    page.click("[data-testid=mark-ready]")
    page.wait_for_selector(".flash-success")
    assert "可用" in page.locator("[data-testid=status]").inner_text()
