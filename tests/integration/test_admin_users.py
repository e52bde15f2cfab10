import io

import openpyxl
import sqlalchemy as sa

from tests.conftest import valid_national_id
from trainer.accounts.models import User
from trainer.audit.models import AuditEntry
from trainer.db import db

EN = {"Accept-Language": "en"}


def count_users(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_admin_creates_a_worker_with_a_generated_password(app, client, people):
    client.login("admin")
    national_id = valid_national_id("34010419850101123")
    response = client.post_form("/admin/users/new", {
        "name": "新学员", "phone": "13700000001", "role": "worker", "national_id": national_id,
        "employer": "Acme Chemicals"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "新学员" in page and 'data-testid="initial-password"' in page
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.phone == "13700000001"))
        assert user.national_id == national_id and user.must_change_password
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.create"))
        assert entry.actor_label.startswith("Ada Admin")
        assert national_id not in str(entry.after)  # the audit log never stores the full ID


def test_bad_id_number_is_explained_and_nothing_is_created(app, client, people):
    client.login("admin")
    before = count_users(app)
    response = client.post_form("/admin/users/new", {
        "name": "Typo", "phone": "13700000002", "role": "worker",
        "national_id": "340104198501011231"}, headers=EN)
    assert response.status_code == 400
    assert "check digit is wrong" in response.get_data(as_text=True)
    assert count_users(app) == before


def test_employer_admin_sees_and_manages_only_their_own_people(app, client, people):
    client.login("safety")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "Wang Worker" in listing
    assert "Oscar Other" not in listing and "Ada Admin" not in listing
    assert client.get(f"/admin/users/{people['other_worker']}").status_code == 404
    assert client.get(f"/admin/users/{people['worker']}").status_code == 200
    # cannot reveal ID numbers, cannot create staff, cannot add to another employer
    assert client.post_form(f"/admin/users/{people['worker']}/reveal-id").status_code == 403
    response = client.post_form("/admin/users/new", {"name": "X", "username": "sneaky",
                                                     "role": "admin"}, headers=EN)
    assert response.status_code == 400
    response = client.post_form("/admin/users/new", {"name": "Y", "phone": "13700000003",
                                                     "role": "worker",
                                                     "employer": "Other Welding"}, headers=EN)
    assert response.status_code == 400
    assert "your own employer" in response.get_data(as_text=True)
    # nothing was created by the refused attempts
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "sneaky")) is None
        assert db.session.scalar(sa.select(User).where(User.phone == "13700000003")) is None


def test_employer_admin_adds_a_worker_to_their_own_employer(app, client, people):
    client.login("safety")
    response = client.post_form("/admin/users/new", {"name": "本厂学员", "phone": "13700000004",
                                                     "role": "worker"})
    assert response.status_code == 200
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.phone == "13700000004"))
        assert user.employer_id == people["acme_id"]


def test_id_number_is_masked_until_an_admin_reveals_it_and_the_reveal_is_audited(app, client, people):
    with app.app_context():
        full = db.session.get(User, people["worker"]).national_id
    client.login("admin")
    detail = client.get(f"/admin/users/{people['worker']}").get_data(as_text=True)
    assert full not in detail and full[:6] + "********" + full[-4:] in detail
    assert full not in client.get("/admin/users").get_data(as_text=True)
    revealed = client.post_form(f"/admin/users/{people['worker']}/reveal-id")
    assert full in revealed.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "user.reveal_national_id"))
        assert entry.target_id == str(people["worker"]) and entry.actor_id == people["admin"]
    # the worker sees only the masked number on their own page
    client.logout()
    client.login("13800000001")
    assert full not in client.get("/account").get_data(as_text=True)


def test_edit_records_before_and_after(app, client, people):
    client.login("admin")
    response = client.post_form(f"/admin/users/{people['worker']}/edit", {
        "name": "Wang Renamed", "role": "worker", "employer": "Acme Chemicals", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.update"))
        assert entry.before == {"name": "Wang Worker"} and entry.after == {"name": "Wang Renamed"}
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "user.update" in log and "Wang Renamed" in log


def test_admin_resets_a_password(app, client, people):
    client.login("safety")
    page = client.post_form(f"/admin/users/{people['worker']}/reset-password")
    assert page.status_code == 200
    import re

    password = re.search(r'data-testid="initial-password">([^<]+)<', page.get_data(as_text=True))[1]
    client.logout()
    client.login("13800000001", password)
    assert client.get("/").headers["Location"] == "/account/password"


def upload(client, path, name, content):
    return client.post_form(path, {"file": (io.BytesIO(content), name)},
                            content_type="multipart/form-data", headers=EN)


GOOD_CSV = (
    "姓名,手机号,用户名,角色,身份证号,单位,初始密码\n"
    f"赵一,13600000001,,学员,{valid_national_id('34010419900101001')},Acme Chemicals,\n"
    f"钱二,13600000002,,学员,{valid_national_id('34010419900101002')},Acme Chemicals,abc12345\n"
    "孙三,,sunsan,讲师,,,\n"
)


def test_bulk_import_creates_every_row(app, client, people):
    client.login("admin")
    before = count_users(app)
    response = upload(client, "/admin/users/import", "people.csv", GOOD_CSV.encode("utf-8-sig"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert count_users(app) == before + 3
    client.logout()
    client.login("13600000002", "abc12345")


def test_bulk_import_reads_gbk_and_xlsx(app, client, people):
    client.login("admin")
    assert upload(client, "/admin/users/import", "gbk.csv", GOOD_CSV.encode("gbk")
                  ).status_code == 200
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "phone", "role", "employer"])
    sheet.append(["Li Four", "13600000009", "worker", "Other Welding"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert upload(client, "/admin/users/import", "people.xlsx", buffer.getvalue()
                  ).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.phone == "13600000009")) is not None


def test_malformed_bulk_file_lists_errors_by_row_and_imports_nothing(app, client, people):
    client.login("admin")
    before = count_users(app)
    bad = (
        "name,phone,role,national_id,employer\n"
        "Good Row,13600000011,worker,,Acme Chemicals\n"
        "Bad Phone,12345,worker,,Acme Chemicals\n"
        "Bad Id,13600000013,worker,340104199001010011,Acme Chemicals\n"
        "Dup Phone,13600000011,worker,,Acme Chemicals\n"
        "No Employer,13600000015,worker,,Nowhere Ltd\n"
        "Taken,13800000001,worker,,\n"
        ",13600000017,worker,,\n"
        "Who,13600000018,wizard,,\n"
    )
    response = upload(client, "/admin/users/import", "people.csv", bad.encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for row, text in [(3, "is not a mainland mobile number"), (4, "check digit is wrong"),
                      (5, "Same as row 2"), (6, "No employer is called Nowhere Ltd"),
                      (7, "already registered"), (8, "A name is required"),
                      (9, "Unknown role wizard")]:
        assert f"<td>{row}</td>" in page and text in page, (row, text)
    assert count_users(app) == before


def test_hostile_and_empty_files_are_refused_cleanly(app, client, people):
    client.login("admin")
    before = count_users(app)
    import zipfile

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", b"<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (150 * 1024 * 1024))
    response = upload(client, "/admin/users/import", "bomb.xlsx", bomb.getvalue())
    assert response.status_code == 422
    assert "expands to more than 100 MB" in response.get_data(as_text=True)
    response = upload(client, "/admin/users/import", "junk.xlsx", b"PK\x03\x04garbage")
    assert "damaged or incomplete" in response.get_data(as_text=True)
    response = upload(client, "/admin/users/import", "empty.csv", b"name,phone\n")
    assert "no user rows" in response.get_data(as_text=True)
    response = upload(client, "/admin/users/import", "bin.csv", bytes(range(256)) * 10)
    assert response.status_code == 422
    assert count_users(app) == before


def test_employers_and_production_state_changes_are_audited(app, client, people):
    client.login("admin")
    response = client.post_form("/admin/employers", {"name": "New Plant", "region_code": "340104"})
    assert response.status_code == 302
    page = client.get("/admin/employers").get_data(as_text=True)
    assert "New Plant" in page
    response = client.post_form(f"/admin/employers/{people['acme_id']}/state",
                                {"production_state": "suspended"})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "employer.production_state"))
        assert entry.before == {"production_state": "normal"}
        assert entry.after == {"production_state": "suspended"}
    # a bad state value changes nothing
    assert client.post_form(f"/admin/employers/{people['acme_id']}/state",
                            {"production_state": "exploded"}).status_code == 400
    client.logout()
    client.login("othersafety")
    assert client.post_form(f"/admin/employers/{people['acme_id']}/state",
                            {"production_state": "normal"}).status_code == 404


def test_regions_validate_their_code(client, people):
    client.login("admin")
    response = client.post_form("/admin/regions", {"code": "34x104", "name": "Bad"}, headers=EN)
    assert response.status_code == 400 and "6 digits" in response.get_data(as_text=True)
    assert client.post_form("/admin/regions", {"code": "340102", "name": "瑶海区"}
                            ).status_code == 302


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(document.domain)>"


def test_import_errors_escape_what_the_file_says(app, client, people):
    """Lazy error messages carry cells of the file; the page must show them as text."""
    client.login("admin")
    evil = f"name,phone,role,employer\n张三,13900000011,{IMG},{SCRIPT}\n"
    response = upload(client, "/admin/users/import", "evil.csv", evil.encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(document.domain)&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page


def test_form_field_errors_escape_what_the_user_typed(client, people):
    client.login("admin")
    response = client.post_form("/admin/users/new", {
        "name": "X", "phone": "<svg onload=alert()>", "role": "worker", "employer": SCRIPT},
        headers=EN)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "&lt;svg onload=alert()&gt;" in page and "&lt;script&gt;alert(1)" in page
    assert "<svg onload" not in page and "<script>alert" not in page


def test_lazy_strings_are_escaped_by_every_template(app):
    from flask import render_template_string
    from flask_babel import lazy_gettext

    with app.test_request_context("/"):
        lazy = lazy_gettext("Unknown region code %(code)s.", code=SCRIPT)
        assert SCRIPT not in render_template_string("{{ x }}", x=lazy)
        assert "&lt;script&gt;" in render_template_string("<p>{{ x }}</p>", x=lazy)


def test_confirm_text_is_a_javascript_string_whatever_it_contains(app):
    import html
    import json
    import re

    from flask import render_template_string

    text = "Reset Wang's \"password\"? </script><b>"
    with app.test_request_context("/"):
        out = render_template_string(
            '{% from "_macros.html" import post_button %}{{ post_button("/x", "Go", "danger", t) }}',
            t=text)
    match = re.search(r"""onsubmit=(['"])(.*?)\1""", out)
    assert match, out
    script = html.unescape(match[2])  # what the browser hands to JavaScript
    call = re.fullmatch(r"return confirm\((.*)\)", script)
    assert call, script
    assert json.loads(call[1]) == text
    assert "<b>" not in out and "</script>" not in out


def test_usernames_are_unique_whatever_their_case(app, client, people):
    """Log-in ignores case, so "ADMIN" must not be creatable next to "admin"."""
    client.login("safety")
    response = client.post_form("/admin/users/new", {"name": "Not Admin", "username": "ADMIN",
                                                     "role": "worker"}, headers=EN)
    assert response.status_code == 400
    client.logout()
    client.login("admin")
    response = client.post_form("/admin/users/new", {"name": "Teacher Two", "username": "TeAcHeR",
                                                     "role": "instructor"}, headers=EN)
    assert response.status_code == 400 and "is taken" in response.get_data(as_text=True)
    rows = "name,username,role\nOne,newbie,worker\nTwo,NewBie,worker\n"
    response = upload(client, "/admin/users/import", "people.csv", rows.encode())
    assert response.status_code == 422 and "Same as row 2" in response.get_data(as_text=True)
    with app.app_context():
        from trainer.accounts.services import find_by_login

        assert find_by_login("ADMIN").id == people["admin"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            sa.func.lower(User.username).in_(["admin", "teacher", "newbie"]))) == 2


def test_the_database_refuses_usernames_that_differ_only_in_case(app, people):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        db.session.add(User(username="Safety", name="Twin", role="worker", password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_case_variant_username_that_races_past_the_checks_is_a_clear_409(app, client, people,
                                                                          monkeypatch):
    """Two admins create "Newbie" and "NEWBIE" at once: both pass the check, the unique index
    on lower(username) refuses the second; the answer is a clear conflict, not a 500."""
    from trainer.accounts import services

    client.login("admin")
    monkeypatch.setattr(services, "uniqueness_errors", lambda valid, **kwargs: [])
    before = count_users(app)
    response = client.post_form("/admin/users/new", {"name": "Twin", "username": "TEACHER",
                                                     "role": "instructor"}, headers=EN)
    assert response.status_code == 409
    assert "Nothing was changed" in response.get_data(as_text=True)
    response = client.post("/api/v1/users", json={"name": "Twin", "username": "Teacher"},
                           headers={**EN, "X-CSRFToken": client.csrf("/")})
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"
    assert count_users(app) == before


# -- the users file is read like the question files: streaming, bounded --------------------

def xlsx_with_sheet(sheet_xml: bytes) -> bytes:
    """A real workbook (openpyxl) whose first sheet is replaced by the given XML."""
    import zipfile

    book = openpyxl.Workbook()
    book.active.append(["x"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as old, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            new.writestr(info.filename, data)
    return out.getvalue()


def sheet(rows_xml: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
            '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            f"{rows_xml}</sheetData></worksheet>").encode()


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def test_users_xlsx_is_read_by_the_streaming_reader_not_openpyxl(app, client, people,
                                                                  monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("uploads must not be parsed by openpyxl")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    client.login("admin")
    rows = (f'<row r="1">{cell("A1", "姓名")}{cell("B1", "手机号")}</row>'
            f'<row r="2">{cell("A2", "孙三")}{cell("B2", "13600000031")}</row>')
    response = upload(client, "/admin/users/import", "people.xlsx", xlsx_with_sheet(sheet(rows)))
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.phone == "13600000031")).name == "孙三"


def test_blank_rows_count_toward_the_row_limit(app, client, people):
    """A sheet of formatted empty rows (or a CSV of empty lines) costs as much to read as
    filled ones: the limit counts them, and nothing is imported."""
    client.login("admin")
    before = count_users(app)
    csv_data = "name,phone\n" + "\n" * 20_001 + "Late,13600000041\n"
    response = upload(client, "/admin/users/import", "blank.csv", csv_data.encode())
    assert response.status_code == 422
    assert "more than 20000 rows, counting blank ones" in response.get_data(as_text=True)
    blank = "".join(f'<row r="{n}"/>' for n in range(2, 20_004))
    rows = (f'<row r="1">{cell("A1", "name")}{cell("B1", "phone")}</row>{blank}'
            f'<row r="20004">{cell("A20004", "Late")}{cell("B20004", "13600000041")}</row>')
    response = upload(client, "/admin/users/import", "blank.xlsx", xlsx_with_sheet(sheet(rows)))
    assert response.status_code == 422
    assert "counting blank ones" in response.get_data(as_text=True)
    assert count_users(app) == before


def test_columns_are_capped(app, client, people):
    client.login("admin")
    before = count_users(app)
    rows = (f'<row r="1">{cell("A1", "name")}{cell("B1", "phone")}</row>'
            f'<row r="2">{cell("A2", "Wide")}{cell("B2", "13600000051")}{cell("XFD2", "x")}</row>')
    response = upload(client, "/admin/users/import", "wide.xlsx", xlsx_with_sheet(sheet(rows)))
    assert response.status_code == 422
    assert "Row 2 has data beyond column 40" in response.get_data(as_text=True)
    wide_csv = "name,phone\nWide,13600000051" + ",x" * 100 + "\n"
    response = upload(client, "/admin/users/import", "wide.csv", wide_csv.encode())
    assert response.status_code == 422
    assert "Row 2 has data beyond column 40" in response.get_data(as_text=True)
    assert count_users(app) == before


def test_a_users_workbook_with_a_dtd_is_refused(app, client, people):
    client.login("admin")
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              + sheet(f'<row r="1">{cell("A1", "&lol2;")}</row>').split(b"?>", 1)[1])
    response = upload(client, "/admin/users/import", "laughs.xlsx", xlsx_with_sheet(laughs))
    assert response.status_code == 422
    assert "XML declarations (DTD)" in response.get_data(as_text=True)


def test_the_import_size_limit_is_the_configured_one(app, client, people):
    client.login("admin")
    # (uploads stay under the 500 kB at which the test client spools its body to a file)
    app.config["IMPORT_MAX_BYTES"] = 256 * 1024  # TRAINER_IMPORT_MAX_MB=0.25, as it were
    try:
        big = ("name,phone\n" + "Somebody,\n" * 30_000).encode()
        assert 256 * 1024 < len(big) < 500 * 1024
        response = upload(client, "/admin/users/import", "big.csv", big)
        assert response.status_code == 413
        assert "larger than 0.25 MB" in response.get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_BYTES"] = 10 * 1024 * 1024


# -- an employer admin learns nothing about other employers' people --------------------------

GENERIC = "This person cannot be added with these details"


def test_employer_admin_gets_one_generic_message_for_taken_details(app, client, people):
    """Another employer's worker has 13900000002 and an ID number: an employer admin trying
    either is told the same thing as for their own employer's worker, naming nothing."""
    from tests.conftest import valid_national_id as vid

    before = count_users(app)
    client.login("safety")
    pages = []
    for fields in ({"phone": "13900000002"},                      # other employer's worker
                   {"phone": "13800000001"},                      # own employer's worker
                   {"phone": "13700000101",
                    "national_id": vid("32010219950612002")},     # other worker's ID number
                   {"phone": "13700000102", "username": "OtherSafety"}):
        response = client.post_form("/admin/users/new", {"name": "Probe", "role": "worker",
                                                         **fields}, headers=EN)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert GENERIC in page
        assert "already registered" not in page and "already exists" not in page
        assert "is taken" not in page
        pages.append(page)
    response = client.post("/api/v1/users", json={"name": "Probe", "phone": "13900000002"},
                           headers={**EN, "X-CSRFToken": client.csrf("/")})
    assert response.status_code == 422
    assert GENERIC in str(response.json) and "already registered" not in str(response.json)
    rows = "name,phone\nProbe,13900000002\n"
    response = upload(client, "/admin/users/import", "probe.csv", rows.encode())
    assert response.status_code == 422 and GENERIC in response.get_data(as_text=True)
    assert "already registered" not in response.get_data(as_text=True)
    # employer names: "exists elsewhere" and "exists nowhere" read the same
    answers = set()
    for name in ("Other Welding", "Nowhere Ltd"):
        response = client.post_form("/admin/users/new", {"name": "Probe", "phone": "13700000103",
                                                         "role": "worker", "employer": name},
                                    headers=EN)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "your own employer" in page and "No employer is called" not in page
        answers.add(page.count("your own employer"))
    assert len(answers) == 1
    assert count_users(app) == before


def test_a_platform_admin_still_gets_the_precise_message(client, people):
    client.login("admin")
    response = client.post_form("/admin/users/new", {"name": "Probe", "role": "worker",
                                                     "phone": "13900000002"}, headers=EN)
    assert response.status_code == 400
    assert "already registered" in response.get_data(as_text=True)
