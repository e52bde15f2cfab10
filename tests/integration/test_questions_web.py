"""Question-bank pages: import with preview and confirmation, banks, edit, bulk status, export.

Real files (tests/fixtures/questions and files built here), the real database, the real app.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from trainer.db import db
from trainer.questions import pending
from trainer.questions.exporters import export_questions, make_template
from trainer.questions.models import Question, QuestionBank, QuestionVersion
from trainer.questions.types import QuestionContent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questions"


@pytest.fixture(autouse=True)
def _upload_dir(app: Any, tmp_path: Path) -> Any:
    """Uploads waiting for confirmation go to a temporary folder, not the instance folder."""
    before = app.config.get("QUESTION_UPLOAD_DIR")
    app.config["QUESTION_UPLOAD_DIR"] = str(tmp_path / "question_uploads")
    yield
    app.config["QUESTION_UPLOAD_DIR"] = before


@pytest.fixture
def bank_id(app: Any, people: dict[str, Any]) -> int:
    with app.app_context():
        bank = QuestionBank(name="低压电工 1.2", owner_id=people["instructor"])
        db.session.add(bank)
        db.session.commit()
        return bank.id


@pytest.fixture
def teacher(client: Any, people: dict[str, Any]) -> Any:
    client.login(people["instructor_login"])
    client.post_form("/language", {"locale": "en"})
    return client


def upload(client: Any, bank: int, name: str, data: bytes, file_format: str = "") -> Any:
    token = client.csrf(f"/questions/banks/{bank}/import")
    # Encoded in memory: the test client would spool a big body to a file it never closes.
    stream, length, boundary = stream_encode_multipart(
        {"csrf_token": token, "format": file_format, "file": FileStorage(io.BytesIO(data), filename=name)},
        use_tempfile=False)
    return client.post(f"/questions/banks/{bank}/import", input_stream=stream,
                       content_length=length,
                       content_type=f'multipart/form-data; boundary="{boundary}"')


def preview_url(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert re.search(r"/import/[A-Za-z0-9_-]{43}$", location), location
    return location


def confirm(client: Any, url: str, **fields: Any) -> Any:
    data = {"csrf_token": client.csrf(url), "action": "import"}
    data.update({k: "y" for k, v in fields.items() if v})
    return client.post(url, data=data)


def count_questions(app: Any, bank: int, status: str | None = None) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(Question).where(Question.bank_id == bank)
        if status:
            query = query.where(Question.status == status)
        return db.session.scalar(query) or 0


SAMPLES = [
    ("sample.gift", "GIFT"),
    ("sample.aiken.txt", "Aiken"),
    ("sample_moodle.xml", "Moodle XML"),
    ("bank_utf8.csv", "CSV"),
    ("bank_utf8_bom.csv", "CSV"),
    ("bank_gbk.csv", "CSV"),
]


@pytest.mark.parametrize(("name", "label"), SAMPLES)
def test_upload_preview_confirm_each_format(app, teacher, bank_id, name, label):
    url = preview_url(upload(teacher, bank_id, name, (FIXTURES / name).read_bytes()))
    page = teacher.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-testid="format">{label}<' in html
    shown = int(re.search(r'data-testid="count-questions">(\d+)<', html).group(1))
    assert shown > 0
    assert html.count('data-testid="preview-question"') == min(shown, 100)
    assert count_questions(app, bank_id) == 0  # the preview saves nothing
    errors = int(re.search(r'data-testid="count-errors">(\d+)<', html).group(1))
    done = confirm(teacher, url, ready=True, only_valid=bool(errors))
    assert done.status_code == 302
    duplicates = int(re.search(r'data-testid="count-duplicates">(\d+)<', html).group(1))
    assert count_questions(app, bank_id, "ready") == shown - duplicates
    # The token is spent: the preview is gone.
    again = teacher.get(url)
    assert again.status_code == 302 and "/import" in again.headers["Location"]


def test_xlsx_template_round_trip_through_the_web(app, teacher, bank_id):
    for language in ("zh", "en"):
        for fmt in ("xlsx", "csv"):
            response = teacher.get(f"/questions/templates/{language}/{fmt}")
            assert response.status_code == 200
            assert "attachment" in response.headers["Content-Disposition"]
    template = teacher.get("/questions/templates/zh/xlsx").data
    url = preview_url(upload(teacher, bank_id, "模板.xlsx", template))
    html = teacher.get(url).get_data(as_text=True)
    assert 'data-testid="format">Excel (XLSX)<' in html
    assert 'data-testid="count-errors">0<' in html
    assert confirm(teacher, url).status_code == 302
    assert count_questions(app, bank_id, "draft") == 3
    assert teacher.get("/questions/templates/fr/xlsx").status_code == 404


def test_file_with_errors_imports_nothing_unless_asked(app, teacher, bank_id):
    url = preview_url(upload(teacher, bank_id, "bank_errors.csv",
                             (FIXTURES / "bank_errors.csv").read_bytes()))
    html = teacher.get(url).get_data(as_text=True)
    assert 'data-testid="import-error"' in html
    assert "bank_errors.csv" in html and "row 4" in html and "answer" in html
    assert "Unknown question type" in html
    refused = confirm(teacher, url, ready=True)
    assert refused.status_code == 422
    assert "nothing was imported" in refused.get_data(as_text=True)
    assert count_questions(app, bank_id) == 0
    accepted = confirm(teacher, url, ready=True, only_valid=True)
    assert accepted.status_code == 302
    assert count_questions(app, bank_id) == 1


def test_unsupported_questions_are_named_and_counted(app, teacher, bank_id):
    gift = (b"::Essay one:: Describe a lock-out procedure. {}\n\n"
            b"::Number:: How many volts is safe? {#36}\n\n"
            b"::Match:: Match them {=a -> 1 =b -> 2 =c -> 3}\n\n"
            b"::TF:: Gloves insulate. {T}\n")
    url = preview_url(upload(teacher, bank_id, "mixed.gift", gift))
    html = teacher.get(url).get_data(as_text=True)
    assert 'data-testid="count-unsupported">3<' in html
    assert "Essay one" in html and "essay: 1" in html and "numerical: 1" in html
    assert confirm(teacher, url).status_code == 302
    assert count_questions(app, bank_id) == 1


def test_errors_are_shown_in_chinese(app, teacher, bank_id):
    teacher.post_form("/language", {"locale": "zh_CN"})
    url = preview_url(upload(teacher, bank_id, "bad.gift", (FIXTURES / "bad.gift").read_bytes()))
    html = teacher.get(url).get_data(as_text=True)
    assert "行" in html and "错误" in html
    assert 'data-testid="import-error"' in html


def test_duplicates_are_reported_and_skipped(app, teacher, bank_id):
    data = (FIXTURES / "sample.gift").read_bytes()
    first = preview_url(upload(teacher, bank_id, "a.gift", data))
    confirm(teacher, first)
    before = count_questions(app, bank_id)
    second = preview_url(upload(teacher, bank_id, "a.gift", data))
    html = teacher.get(second).get_data(as_text=True)
    assert 'data-testid="duplicates"' in html and "already in the bank" in html
    confirm(teacher, second)
    assert count_questions(app, bank_id) == before


def test_format_override(app, teacher, bank_id):
    data = (FIXTURES / "sample.aiken.txt").read_bytes()
    url = preview_url(upload(teacher, bank_id, "x.txt", data, file_format="gift"))
    html = teacher.get(url).get_data(as_text=True)
    assert 'data-testid="format">GIFT<' in html


def bomb_xlsx() -> bytes:
    out = io.BytesIO()
    with (zipfile.ZipFile(io.BytesIO(make_template("xlsx"))) as old,
          zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new):
        for entry in old.infolist():
            new.writestr(entry.filename, old.read(entry.filename))
        with new.open("xl/bomb.xml", "w") as part:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(120):
                part.write(chunk)
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<quiz><question type="truefalse"><questiontext><text>&lol9;</text></questiontext></question></quiz>
"""


@pytest.mark.parametrize(("name", "make", "message"), [
    ("bomb.xlsx", bomb_xlsx, "expands to more than"),
    ("lol.xml", lambda: BILLION_LAUGHS, "DTD or entities"),
    ("u16.csv", lambda: "题型,题干,选项A,选项B,答案\n单选题,问题,甲,乙,A\n".encode("utf-16"),
     "UTF-16"),
    ("bad.csv", lambda: b"type,stem,answer\n\x80\xff\xfe\x81\n", "neither UTF-8 nor GBK"),
    ("old.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ".xls"),
    ("trunc.xml", lambda: (FIXTURES / "truncated_moodle.xml").read_bytes(), ""),
    ("noise.xlsx", lambda: os.urandom(200_000), ""),
])
def test_hostile_files_get_a_clear_refusal(app, teacher, bank_id, name, make, message):
    url = preview_url(upload(teacher, bank_id, name, make()))
    response = teacher.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="import-error"' in html
    assert message in html
    assert confirm(teacher, url).status_code == 422
    assert count_questions(app, bank_id) == 0


def test_fifty_megabytes_of_garbage_is_refused_before_parsing(app, teacher, bank_id):
    with app.app_context():
        before = set(pending.upload_dir().glob("*.bin"))
    response = upload(teacher, bank_id, "garbage.xlsx", os.urandom(50 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than 10 MB" in response.get_data(as_text=True)
    with app.app_context():
        assert set(pending.upload_dir().glob("*.bin")) == before


def test_empty_or_missing_file(teacher, bank_id):
    assert upload(teacher, bank_id, "empty.csv", b"").status_code == 400
    token = teacher.csrf(f"/questions/banks/{bank_id}/import")
    missing = teacher.post(f"/questions/banks/{bank_id}/import", data={"csrf_token": token})
    assert missing.status_code == 400


def test_upload_needs_csrf(teacher, bank_id):
    response = teacher.post(f"/questions/banks/{bank_id}/import",
                            data={"file": (io.BytesIO(b"x"), "a.gift")},
                            content_type="multipart/form-data")
    assert response.status_code == 400


def test_pending_upload_is_bound_to_its_user_and_bank(app, client, people, bank_id):
    client.login(people["instructor_login"])
    url = preview_url(upload(client, bank_id, "sample.gift",
                             (FIXTURES / "sample.gift").read_bytes()))
    client.logout()
    client.login(people["admin_login"])  # admins see the bank, but not this upload
    response = client.get(url)
    assert response.status_code == 302
    assert confirm(client, url).status_code == 302
    assert count_questions(app, bank_id) == 0
    # Forged tokens never reach the file system.
    for token in ["../../etc/passwd", "x" * 43 + "/..", "%2e%2e%2fsecret"]:
        assert client.get(f"/questions/banks/{bank_id}/import/{token}").status_code in {302, 404}


def test_pending_upload_expires(app, teacher, bank_id, monkeypatch):
    url = preview_url(upload(teacher, bank_id, "sample.gift",
                             (FIXTURES / "sample.gift").read_bytes()))
    monkeypatch.setattr(pending, "MAX_AGE", -1)
    assert teacher.get(url).status_code == 302
    with app.app_context():
        assert list(pending.upload_dir().glob(url.rsplit("/", 1)[1] + ".*")) == []


def test_cancel_discards_the_upload(app, teacher, bank_id):
    url = preview_url(upload(teacher, bank_id, "sample.gift",
                             (FIXTURES / "sample.gift").read_bytes()))
    response = teacher.post(url, data={"csrf_token": teacher.csrf(url), "action": "cancel"})
    assert response.status_code == 302
    assert teacher.get(url).status_code == 302
    assert count_questions(app, bank_id) == 0


# --- banks, access -------------------------------------------------------------------------


def test_create_bank_with_types_and_shares(app, client, people):
    from trainer.accounts.models import User

    with app.app_context():
        other = User(username="other_teacher", name="Otto Other", role="instructor",
                     password_hash=db.session.get(User, people["instructor"]).password_hash)
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    client.login(people["instructor_login"])
    response = client.post_form("/questions/banks/new", {
        "name": "焊接 2.1", "description": "熔化焊接与热切割", "certificate_types": "2.1, sm",
        "shared_with": [str(other_id)]})
    assert response.status_code == 302
    with app.app_context():
        bank = db.session.scalar(sa.select(QuestionBank).where(QuestionBank.name == "焊接 2.1"))
        assert bank.owner_id == people["instructor"]
        assert bank.certificate_types == ["2.1", "SM"]
        assert [u.id for u in bank.shared_with] == [other_id]
        new_id = bank.id
    assert "焊接 2.1" in client.get("/questions/").get_data(as_text=True)
    duplicate = client.post_form("/questions/banks/new", {"name": "焊接 2.1"})
    assert duplicate.status_code == 400
    bad_code = client.post_form("/questions/banks/new", {"name": "x", "certificate_types": "1.2;??"})
    assert bad_code.status_code == 400
    client.logout()
    client.login("other_teacher")
    assert client.get(f"/questions/banks/{new_id}").status_code == 200
    assert "焊接 2.1" in client.get("/questions/").get_data(as_text=True)
    # Shared instructors edit and import questions, but do not re-share the bank.
    assert client.get(f"/questions/banks/{new_id}/import").status_code == 200
    assert client.get(f"/questions/banks/{new_id}/settings").status_code == 403
    client.logout()
    client.login(people["instructor_login"])
    settings = client.get(f"/questions/banks/{new_id}/settings").get_data(as_text=True)
    assert 'value="2.1, SM"' in settings
    assert re.search(rf'<option selected value="{other_id}">', settings)
    edit = client.post_form(f"/questions/banks/{new_id}/settings", {
        "name": "焊接 2.1", "description": "", "certificate_types": "2.1"})
    assert edit.status_code == 302
    with app.app_context():
        bank = db.session.get(QuestionBank, new_id)
        assert bank.certificate_types == ["2.1"] and bank.shared_with == []


def test_only_owner_shared_and_admins_see_a_bank(app, client, people, bank_id):
    from trainer.accounts.models import User

    with app.app_context():
        stranger = User(username="stranger", name="S", role="instructor",
                        password_hash=db.session.get(User, people["instructor"]).password_hash)
        db.session.add(stranger)
        db.session.commit()
    client.login("stranger")
    for path in ["", "/import", "/settings", "/statistics", "/export/json",
                 "/questions/new"]:
        assert client.get(f"/questions/banks/{bank_id}{path}").status_code == 404, path
    assert "低压电工" not in client.get("/questions/").get_data(as_text=True)
    client.logout()
    client.login(people["worker_login"])
    assert client.get("/questions/").status_code == 403
    assert client.get(f"/questions/banks/{bank_id}").status_code == 403
    client.logout()
    client.login(people["admin_login"])
    assert client.get(f"/questions/banks/{bank_id}").status_code == 200


def add_questions(app: Any, bank: int, count: int, status: str = "draft") -> list[int]:
    from trainer.questions import services

    with app.app_context():
        bank_row = db.session.get(QuestionBank, bank)
        contents = [QuestionContent(type="single", stem=f"第{i}题 接地电阻{'高' if i % 2 else '低'}",
                                    options=["甲", "乙", f"丙{i}"], answer=[i % 3],
                                    category="电工/接地" if i % 2 else "电工/绝缘",
                                    difficulty=("easy", "medium", "hard")[i % 3])
                    for i in range(count)]
        ids = services.add_questions(bank_row, contents, None, status)
        db.session.commit()
        return ids


def test_question_list_search_filters_and_pages(app, teacher, bank_id):
    add_questions(app, bank_id, 120)
    html = teacher.get(f"/questions/banks/{bank_id}").get_data(as_text=True)
    assert html.count('data-testid="question"') == 50
    assert "120" in html
    page3 = teacher.get(f"/questions/banks/{bank_id}?page=3").get_data(as_text=True)
    assert page3.count('data-testid="question"') == 20
    found = teacher.get(f"/questions/banks/{bank_id}?q=第7题").get_data(as_text=True)
    assert found.count('data-testid="question"') == 1
    high = teacher.get(f"/questions/banks/{bank_id}?category=电工/接地&difficulty=easy")
    assert high.get_data(as_text=True).count('data-testid="question"') == 20
    none = teacher.get(f"/questions/banks/{bank_id}?q=100%25_").get_data(as_text=True)
    assert 'data-testid="question"' not in none
    assert teacher.get(f"/questions/banks/{bank_id}?status=ready&type=true_false").status_code == 200


def test_bulk_and_single_mark_ready(app, teacher, bank_id, people):
    ids = add_questions(app, bank_id, 5)
    url = f"/questions/banks/{bank_id}"
    response = teacher.post(f"{url}/status", data={
        "csrf_token": teacher.csrf(url), "status": "ready",
        "question_ids": [str(i) for i in ids[:3]]})
    assert response.status_code == 302
    assert count_questions(app, bank_id, "ready") == 3
    # Ids from another bank are ignored.
    with app.app_context():
        other = QuestionBank(name="other", owner_id=people["admin"])
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    foreign = add_questions(app, other_id, 1)
    teacher.post(f"{url}/status", data={"csrf_token": teacher.csrf(url), "status": "ready",
                                         "question_ids": [str(foreign[0])]})
    assert count_questions(app, other_id, "ready") == 0
    no_csrf = teacher.post(f"{url}/status", data={"status": "ready",
                                                  "question_ids": [str(ids[4])]})
    assert no_csrf.status_code == 400 and count_questions(app, bank_id, "ready") == 3
    edit = f"/questions/{ids[4]}/edit"
    teacher.post(f"/questions/{ids[4]}/status", data={"csrf_token": teacher.csrf(edit),
                                                      "status": "ready"})
    assert count_questions(app, bank_id, "ready") == 4
    teacher.post(f"{url}/status", data={"csrf_token": teacher.csrf(url), "status": "draft",
                                         "question_ids": [str(i) for i in ids]})
    assert count_questions(app, bank_id, "ready") == 0


def test_edit_creates_a_new_version_and_keeps_the_old(app, teacher, bank_id):
    (qid,) = add_questions(app, bank_id, 1)
    url = f"/questions/{qid}/edit"
    page = teacher.get(url).get_data(as_text=True)
    assert 'id="question-preview"' in page and "第0题" in page
    form = {"csrf_token": teacher.csrf(url), "type": "multiple", "stem": "哪些是绝缘工具？",
            "option_a": "绝缘手套", "option_b": "铁锤", "option_c": "", "option_d": "绝缘靴",
            "correct": ["A", "D"], "true_false": "true", "explanation": "常识",
            "category": "电工/绝缘", "difficulty": "hard"}
    response = teacher.post(url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        question = db.session.get(Question, qid)
        versions = db.session.scalars(sa.select(QuestionVersion).where(
            QuestionVersion.question_id == qid).order_by(QuestionVersion.number)).all()
        assert [v.number for v in versions] == [1, 2]
        assert versions[0].stem.startswith("第0题")
        assert question.current_version.options == ["绝缘手套", "铁锤", "绝缘靴"]
        assert question.current_version.answer == [0, 2]
        assert (question.type, question.difficulty) == ("multiple", "hard")
    # Saving the same content again makes no version.
    teacher.post(url, data=form)
    # Invalid content: a single-choice question with two answers; nothing saved.
    bad = dict(form, type="single", csrf_token=teacher.csrf(url))
    refused = teacher.post(url, data=bad)
    assert refused.status_code == 400
    tf = dict(form, type="true_false", true_false="false", stem="接地可以防触电。",
              csrf_token=teacher.csrf(url))
    assert teacher.post(url, data=tf).status_code == 302
    with app.app_context():
        assert db.session.get(Question, qid).current_version.number == 3
        assert db.session.get(Question, qid).current_version.answer is False


def test_add_a_question_by_hand(app, teacher, bank_id):
    url = f"/questions/banks/{bank_id}/questions/new"
    response = teacher.post(url, data={
        "csrf_token": teacher.csrf(url), "type": "single", "stem": "安全电压是？",
        "option_a": "36V", "option_b": "220V", "correct": ["A"], "true_false": "true",
        "difficulty": "easy"})
    assert response.status_code == 302
    assert count_questions(app, bank_id, "draft") == 1
    empty = teacher.post(url, data={"csrf_token": teacher.csrf(url), "type": "single",
                                    "stem": "", "true_false": "true", "difficulty": "easy"})
    assert empty.status_code == 400


@pytest.mark.parametrize("fmt", ["json", "xlsx", "gift", "moodle-xml"])
def test_export_and_reimport(app, teacher, bank_id, fmt):
    add_questions(app, bank_id, 6)
    response = teacher.get(f"/questions/banks/{bank_id}/export/{fmt}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    with app.app_context():
        target = QuestionBank(name=f"copy {fmt}", owner_id=db.session.get(
            QuestionBank, bank_id).owner_id)
        db.session.add(target)
        db.session.commit()
        target_id = target.id
    name = {"json": "b.json", "xlsx": "b.xlsx", "gift": "b.gift", "moodle-xml": "b.xml"}[fmt]
    url = preview_url(upload(teacher, target_id, name, response.data))
    confirm(teacher, url)
    assert count_questions(app, target_id) == 6
    if fmt == "json":
        assert len(json.loads(response.data)) == 6
    assert teacher.get(f"/questions/banks/{bank_id}/export/pdf").status_code == 404


def test_statistics_page_empty_state(teacher, bank_id):
    html = teacher.get(f"/questions/banks/{bank_id}/statistics").get_data(as_text=True)
    assert 'data-testid="stats-empty"' in html


def test_export_matches_service_export(app, teacher, bank_id):
    add_questions(app, bank_id, 2)
    with app.app_context():
        from trainer.questions import services

        expected = export_questions(services.bank_contents(db.session.get(QuestionBank,
                                                                          bank_id)), "json")
    assert teacher.get(f"/questions/banks/{bank_id}/export/json").data == expected


def test_statistics_from_finished_attempts(app, teacher, bank_id, people):
    import datetime as dt

    from trainer.clock import utcnow
    from trainer.exams.models import AttemptQuestion, Exam, ExamAttempt

    good, easy = add_questions(app, bank_id, 2)
    with app.app_context():
        versions = {q: db.session.get(Question, q).current_version_id for q in (good, easy)}
        exam = Exam(title="stats", question_count=2, time_limit_seconds=600)
        db.session.add(exam)
        db.session.flush()
        for i in range(14):
            strong = i >= 7
            status = "in_progress" if i == 13 else ("expired" if i == 12 else "submitted")
            attempt = ExamAttempt(exam_id=exam.id, user_id=people["worker"], number=i + 1,
                                  deadline=utcnow() + dt.timedelta(hours=1), status=status,
                                  score=50.0 + (40 if strong else 0) + i,
                                  active_key=f"{exam.id}:{i}" if status == "in_progress"
                                  else None)
            db.session.add(attempt)
            db.session.flush()
            # good: answered right (option 0 of the first question) only by strong candidates
            db.session.add(AttemptQuestion(
                attempt_id=attempt.id, question_id=good, question_version_id=versions[good],
                position=1, option_order=[2, 0, 1], response=[0] if strong else [1 + i % 2],
                correct=strong, points=5.0 if strong else 0.0, max_points=5.0))
            db.session.add(AttemptQuestion(
                attempt_id=attempt.id, question_id=easy, question_version_id=versions[easy],
                position=2, option_order=[0, 1, 2], response=[1], correct=True, points=5.0,
                max_points=5.0))
        db.session.commit()
        from trainer.questions.stats import item_analysis, load_responses

        result = item_analysis(load_responses(bank_id))
    assert result[good].responses == 13  # the attempt still in progress does not count
    assert result[good].facility == pytest.approx(6 / 13)
    assert result[good].discrimination > 0.8 and not result[good].needs_checking
    assert result[good].option_shares[0] == pytest.approx(6 / 13)
    assert result[easy].facility == 1.0 and result[easy].reasons == ["easy"]
    html = teacher.get(f"/questions/banks/{bank_id}/statistics").get_data(as_text=True)
    assert html.count('data-testid="stats-row"') == 2
    assert html.count('data-testid="needs-checking"') == 1
    assert "100%" in html and "46%" in html


def test_bulk_insert_keeps_every_character(app, bank_id):
    """COPY on PostgreSQL: tabs, newlines, backslashes, \\N and quotes come back unchanged."""
    from trainer.questions import services

    tricky = ["tab\there", "line\nbreak\r\nCRLF", "back\\slash \\N \\t", "引号\"'", "null\x01ok"]
    contents = [QuestionContent(type="single", stem=f"{i}: {text}",
                                options=[text, f"other {i}"], answer=[0],
                                explanation=text, category=f"cat/{i}")
                for i, text in enumerate(tricky)]
    contents.append(QuestionContent(type="true_false", stem="判断\t题", answer=False))
    with app.app_context():
        bank = db.session.get(QuestionBank, bank_id)
        ids = services.add_questions(bank, contents, None, "ready")
        db.session.commit()
        db.session.expire_all()
        stored = [db.session.get(Question, qid) for qid in ids]
        assert [q.current_version.content() for q in stored] == contents
        assert all(q.status == "ready" and q.current_version.number == 1 for q in stored)
        assert services.bank_contents(bank) == contents


def test_file_content_is_escaped_in_the_preview(app, teacher, bank_id):
    evil = (b"type,stem,option_a,option_b,answer\n"
            b"<script>alert(1)</script>,<b>stem</b>,<i>a</i>,b,A\n"
            b"single,<img src=x onerror=alert(2)>,<i>a</i>,b,A\n")
    url = preview_url(upload(teacher, bank_id, "<evil>.csv", evil))
    html = teacher.get(url).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<i>a</i>" not in html


def test_embedded_images_are_kept_and_served(app, teacher, bank_id, client):
    url = preview_url(upload(teacher, bank_id, "sample_moodle.xml",
                             (FIXTURES / "sample_moodle.xml").read_bytes()))
    html = teacher.get(url).get_data(as_text=True)
    assert 'src="data:image/png;base64,' in html and 'src="data:image/jpeg;base64,' in html
    confirm(teacher, url, only_valid=True)
    with app.app_context():
        with_images = [v for v in db.session.scalars(sa.select(QuestionVersion)) if v.images]
        assert len(with_images) == 1
        keys = with_images[0].images
        question_id = with_images[0].question_id
    assert [k.rsplit(".", 1)[1] for k in keys] == ["png", "jpg"]
    page = teacher.get(f"/questions/{question_id}/edit").get_data(as_text=True)
    srcs = re.findall(r'src="(/questions/media/images/[0-9a-f]{64}\.(?:png|jpg))"', page)
    assert len(set(srcs)) == 2
    image = teacher.get(srcs[0])
    try:
        assert image.status_code == 200 and image.mimetype in {"image/png", "image/jpeg"}
        assert image.headers["X-Content-Type-Options"] == "nosniff"
        assert image.data[:4] in {b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb"}
    finally:
        image.close()
    # Editing the text keeps the images.
    form = {"csrf_token": teacher.csrf(f"/questions/{question_id}/edit"), "type": "true_false",
            "stem": "危险化学品应当储存在专用仓库内。", "true_false": "true", "difficulty": "medium"}
    assert teacher.post(f"/questions/{question_id}/edit", data=form).status_code == 302
    with app.app_context():
        assert db.session.get(Question, question_id).current_version.images == keys
    for bad in ["images/../../etc/passwd", "images/x.png", "other/" + "0" * 64 + ".png",
                "images/" + "0" * 64 + ".png"]:
        assert teacher.get(f"/questions/media/{bad}").status_code == 404


def test_mark_every_matching_question_on_every_page(app, teacher, bank_id):
    add_questions(app, bank_id, 120)
    url = f"/questions/banks/{bank_id}?category=电工/接地&q=接地电阻"
    page = teacher.get(url).get_data(as_text=True)
    assert 'data-testid="bulk-matching"' in page and 'name="filter_category" value="电工/接地"' in page
    response = teacher.post(f"/questions/banks/{bank_id}/status", data={
        "csrf_token": teacher.csrf(url), "scope": "matching", "status": "ready",
        "filter_category": "电工/接地", "filter_q": "接地电阻", "filter_status": "",
        "filter_type": "", "filter_difficulty": ""})
    assert response.status_code == 302
    assert count_questions(app, bank_id, "ready") == 60
    # Only this bank's questions, whatever the filters say.
    teacher.post(f"/questions/banks/{bank_id}/status", data={
        "csrf_token": teacher.csrf(url), "scope": "matching", "status": "draft",
        "filter_status": "ready"})
    assert count_questions(app, bank_id, "ready") == 0
