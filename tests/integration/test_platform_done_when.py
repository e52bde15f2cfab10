"""Issue 2's "Done when", end to end: each bad input gets a clear answer in the caller's
language and changes nothing (wrong password ×N, malformed bulk user file, bad ID number,
missing CSRF token, another employer's data)."""

import io

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, valid_national_id
from trainer.accounts.models import ApiToken, Employer, User
from trainer.audit.models import AuditEntry
from trainer.db import db

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def snapshot(app):
    """Everything a bad request could have changed (log-in failure counts aside)."""
    with app.app_context():
        users = db.session.execute(sa.select(
            User.id, User.name, User.role, User.username, User.phone, User.national_id,
            User.employer_id, User.password_hash, User.active, User.must_change_password,
            User.password_changed_at).order_by(User.id)).all()
        employers = db.session.execute(sa.select(
            Employer.id, Employer.name, Employer.production_state).order_by(Employer.id)).all()
        tokens = db.session.execute(sa.select(ApiToken.id, ApiToken.revoked_at)).all()
        audit = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        return users, employers, tokens, audit


def upload(client, path, name, content, headers=EN):
    return client.post_form(path, {"file": (io.BytesIO(content), name)},
                            content_type="multipart/form-data", headers=headers)


@pytest.mark.parametrize(("headers", "wrong", "locked"), [
    (EN, "Wrong mobile number, username or password.", "Too many wrong attempts"),
    (ZH, "手机号、用户名或密码错误。", "错误次数过多"),
])
def test_wrong_password_n_times(app, client, people, headers, wrong, locked):
    before = snapshot(app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        response = client.post_form("/login", {"login": "13800000001", "password": "nope-1234"},
                                    headers=headers)
        assert response.status_code == 401 and wrong in response.get_data(as_text=True)
    response = client.post_form("/login", {"login": "13800000001", "password": PASSWORD},
                                headers=headers)
    assert response.status_code == 429 and locked in response.get_data(as_text=True)
    api = client.post("/api/v1/tokens", json={"login": "+86 138 0000 0001",
                                              "password": PASSWORD}, headers=headers)
    assert api.status_code == 429 and locked in api.json["error"]["message"]
    assert client.get("/").status_code == 302  # no session
    assert snapshot(app) == before


MALFORMED = [
    ("binary.csv", bytes(range(256)) * 20, "not text in UTF-8 or GBK"),
    ("noheader.csv", b"13700000001,worker\n", "(姓名) column is required"),
    ("quotes.csv", b'name,phone\n"unbalanced,13700000001\n', "damaged (unbalanced quotes?)"),
    ("truncated.xlsx", b"PK\x03\x04" + b"\x00" * 64, "damaged or incomplete"),
    ("empty.csv", b"", "The file is empty."),
    ("blank.csv", b"\xef\xbb\xbf\r\n \r\n", "The file is empty."),
    ("header-only.csv", b"name,phone\n", "no user rows"),
    ("rows.csv", "姓名,手机号,角色\n张三,12345,学员\n李四,13700000002,wizard\n".encode(),
     "is not a mainland mobile number"),
]


@pytest.mark.parametrize(("name", "content", "message"), MALFORMED)
def test_malformed_bulk_user_file(app, client, people, name, content, message):
    client.login("admin")
    before = snapshot(app)
    response = upload(client, "/admin/users/import", name, content)
    assert response.status_code in {400, 422}
    page = response.get_data(as_text=True)
    assert message in page, page[page.find("<main"):][:1500]
    assert snapshot(app) == before


def test_malformed_bulk_user_file_in_chinese(app, client, people):
    client.login("admin")
    before = snapshot(app)
    rows = "姓名,手机号,身份证号\n张三,13700000001,340104198501011231\n".encode()
    response = upload(client, "/admin/users/import", "bad.csv", rows, headers=ZH)
    assert response.status_code == 422
    assert "身份证号校验位不正确" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_bad_id_number_everywhere(app, client, people):
    client.login("admin")
    before = snapshot(app)
    bad = "340104198501011231"  # wrong check digit
    response = client.post_form("/admin/users/new", {"name": "Typo", "phone": "13700000002",
                                                     "role": "worker", "national_id": bad},
                                headers=ZH)
    assert response.status_code == 400
    assert "身份证号校验位不正确" in response.get_data(as_text=True)
    response = client.post("/api/v1/users", json={"name": "Typo", "phone": "13700000002",
                                                  "national_id": bad},
                           headers={**EN, "X-CSRFToken": client.csrf("/")})
    assert response.status_code == 422
    assert "check digit is wrong" in response.json["error"]["details"]["fields"]["national_id"]
    for wrong, reason in [("3401041985013", "has 18 characters"),
                          ("34010419850230123X", "birth date"),
                          ("3401041985010112３A", "17 digits followed by a digit or X")]:
        response = client.post_form("/admin/users/new", {"name": "Typo", "phone": "13700000002",
                                                         "role": "worker", "national_id": wrong},
                                    headers=EN)
        assert response.status_code == 400 and reason in response.get_data(as_text=True), wrong
    assert snapshot(app) == before
    assert valid_national_id(bad[:17]) != bad


CSRF_EN = "This form has expired or did not come from this site. Nothing was changed"
CSRF_ZH = "表单已过期或并非来自本站，未做任何更改"


def test_missing_csrf_token_on_every_kind_of_form(app, client, people):
    before = snapshot(app)
    # log-in form: no session is made
    response = client.post("/login", data={"login": "13800000001", "password": PASSWORD},
                           headers=EN)
    assert response.status_code == 400 and CSRF_EN in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    client.login("admin")
    posts = [
        ("/account/password", {"current_password": PASSWORD, "new_password": "new-pass-99",
                               "confirm": "new-pass-99"}),
        (f"/admin/users/{people['worker']}/reset-password", {}),
        (f"/admin/users/{people['worker']}/reveal-id", {}),
        (f"/admin/users/{people['worker']}/edit", {"name": "Renamed", "role": "worker",
                                                   "active": "y"}),
        ("/admin/users/new", {"name": "Forged", "phone": "13700000009", "role": "admin"}),
        ("/admin/users/import", {"file": (io.BytesIO(b"name,phone\nX,13700000010\n"),
                                          "x.csv")}),
        (f"/admin/employers/{people['acme_id']}/state", {"production_state": "suspended"}),
        ("/admin/employers", {"name": "Forged Ltd", "region_code": "340104"}),
        ("/admin/regions", {"code": "340102", "name": "Forged"}),
        ("/logout", {}),
    ]
    for path, data in posts:
        response = client.post(path, data=data, headers=ZH)
        assert response.status_code == 400, path
        assert CSRF_ZH in response.get_data(as_text=True), path
    # a wrong token is as good as none
    response = client.post("/admin/users/new", data={"name": "Forged", "phone": "13700000009",
                                                     "role": "admin", "csrf_token": "forged"},
                           headers=EN)
    assert response.status_code == 400 and CSRF_EN in response.get_data(as_text=True)
    # the session's API calls need the header too
    response = client.post("/api/v1/users", json={"name": "Forged", "phone": "13700000009"},
                           headers=EN)
    assert response.status_code == 400 and response.json["error"]["code"] == "csrf_failed"
    assert client.get("/").status_code == 200  # still logged in: logout was refused too
    assert snapshot(app) == before


def test_another_employers_data(app, client, people):
    """Olga administers Other Welding; Acme's worker and Acme itself do not exist for her."""
    before = snapshot(app)
    client.login("othersafety")
    worker = people["worker"]
    for method, path, data in [
        ("get", f"/admin/users/{worker}", None),
        ("get", f"/admin/users/{worker}/edit", None),
        ("post", f"/admin/users/{worker}/edit", {"name": "Hijacked", "role": "worker",
                                                 "active": "y"}),
        ("post", f"/admin/users/{worker}/reset-password", {}),
        ("post", f"/admin/employers/{people['acme_id']}/state",
         {"production_state": "suspended"}),
    ]:
        if method == "get":
            response = client.get(path, headers=EN)
        else:
            response = client.post_form(path, data, headers=EN)
        assert response.status_code == 404, path
        assert "Not found." in response.get_data(as_text=True), path
    listing = client.get("/admin/users?q=Wang", headers=EN).get_data(as_text=True)
    assert "Wang Worker" not in listing
    assert "Wang Worker" not in client.get("/admin/audit").get_data(as_text=True)
    token = client.csrf("/")
    response = client.get(f"/api/v1/users/{worker}", headers=EN)
    assert response.status_code == 404 and response.json["error"]["message"] == "Not found."
    assert "Wang Worker" not in str(client.get("/api/v1/users").json)
    # adding someone to Acme, one by one, by API or by file, is refused the same way
    response = client.post_form("/admin/users/new", {"name": "Mole", "phone": "13700000011",
                                                     "role": "worker",
                                                     "employer": "Acme Chemicals"}, headers=EN)
    assert response.status_code == 400
    assert "You can only add people to your own employer." in response.get_data(as_text=True)
    response = client.post("/api/v1/users", json={"name": "Mole", "phone": "13700000011",
                                                  "employer": "Acme Chemicals"},
                           headers={**EN, "X-CSRFToken": token})
    assert response.status_code == 422
    rows = b"name,phone,employer\nMole,13700000011,Acme Chemicals\n"
    response = upload(client, "/admin/users/import", "mole.csv", rows, headers=ZH)
    assert response.status_code == 422
    assert snapshot(app) == before
