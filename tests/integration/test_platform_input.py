"""Hostile request input gets a clear 4xx and changes nothing: huge ids, bad page numbers,
NUL characters, over-long fields; and an unexpected error is logged, not swallowed."""

import logging

import pytest
import sqlalchemy as sa

from tests.conftest import base_config
from trainer import create_app
from trainer.accounts.models import User
from trainer.db import db

EN = {"Accept-Language": "en"}
HUGE = "99999999999999999999"


def count_users(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def api_headers(client):
    return {**EN, "X-CSRFToken": client.csrf("/")}


# -- ids in URLs: at most 2**31-1, else 404 --------------------------------------------------

@pytest.mark.parametrize("user_id", [HUGE, str(2**31), str(2**63)])
def test_an_id_too_big_for_the_database_is_not_found(client, people, user_id):
    client.login("admin")
    assert client.get(f"/admin/users/{user_id}").status_code == 404
    assert client.post_form(f"/admin/users/{user_id}/reset-password").status_code == 404
    response = client.get(f"/api/v1/users/{user_id}")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_the_largest_id_is_still_looked_up(client, people):
    client.login("admin")
    assert client.get(f"/admin/users/{2**31 - 1}").status_code == 404
    assert client.get(f"/admin/users/{people['worker']}").status_code == 200


def test_every_int_route_uses_the_bounded_converter(app):
    from trainer.params import MAX_INT, BoundedIntConverter

    int_rules = [r for r in app.url_map.iter_rules()
                 if any(isinstance(c, BoundedIntConverter) for c in r._converters.values())]
    assert int_rules, "no <int:> routes found"
    for rule in app.url_map.iter_rules():
        for converter in rule._converters.values():
            if type(converter).__name__ == "IntegerConverter":
                pytest.fail(f"{rule.rule} uses an unbounded int converter")
            if isinstance(converter, BoundedIntConverter):
                assert converter.max is not None and converter.max <= MAX_INT, rule.rule


# -- page / offset / limit --------------------------------------------------------------------

def test_page_arguments_that_are_not_numbers_are_a_clear_400(client, people):
    client.login("admin")
    for path in ("/admin/users?page=abc", "/admin/audit?page=1e3", "/admin/users?page=%EF%BC%91"):
        response = client.get(path, headers=EN)
        assert response.status_code == 400, path
        assert "must be a whole number" in response.get_data(as_text=True)
    response = client.get("/api/v1/users?offset=ten", headers=EN)
    assert response.status_code == 400
    assert response.json["error"]["message"] == "The offset parameter must be a whole number."


def test_out_of_range_page_arguments_are_clamped(client, people):
    client.login("admin")
    assert client.get(f"/admin/users?page={HUGE}").status_code == 200
    assert client.get("/admin/users?page=-3").status_code == 200
    assert client.get(f"/admin/audit?page={HUGE}").status_code == 200
    response = client.get(f"/api/v1/users?offset={HUGE}&limit={HUGE}")
    assert response.status_code == 200
    assert response.json["limit"] == 500 and response.json["users"] == []
    response = client.get("/api/v1/users?offset=-5&limit=0")
    assert response.json["offset"] == 0 and response.json["limit"] == 1


# -- NUL characters ---------------------------------------------------------------------------

def test_nul_in_a_query_string_is_a_clear_400(client, people):
    client.login("admin")
    response = client.get("/admin/users?q=a%00b", headers=EN)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    response = client.get("/api/v1/users?q=%00", headers=EN)
    assert response.status_code == 400 and "NUL character" in response.json["error"]["message"]


def test_nul_in_a_form_or_json_changes_nothing(app, client, people):
    before = count_users(app)
    response = client.post_form("/login", {"login": "teach\x00er", "password": "x"}, headers=EN)
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
    response = client.post("/api/v1/tokens", json={"login": "13800000001\x00",
                                                   "password": "x"}, headers=EN)
    assert response.status_code == 400 and "NUL character" in response.json["error"]["message"]
    client.login("admin")
    response = client.post_form("/admin/users/new", {"name": "Nul\x00Name", "phone": "13700000071",
                                                     "role": "worker"}, headers=EN)
    assert response.status_code == 400
    response = client.post("/api/v1/users", json={"name": "ok", "phone": "13700000072",
                                                  "extra": {"deep": ["x\x00"]}},
                           headers=api_headers(client))
    assert response.status_code == 400
    assert count_users(app) == before


def test_a_zh_user_gets_the_nul_message_in_chinese(client, people):
    response = client.get("/login?next=%00", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert "未做任何更改" in response.get_data(as_text=True)


# -- every user field has a length limit ------------------------------------------------------

LONG_FIELDS = [
    ("name", "N" * 101, "A name has at most 100 characters."),
    ("role", "w" * 51, "A role has at most 50 characters."),
    ("username", "u" * 41, "A username has at most 40 characters."),
    ("phone", "1" * 31, "A mobile number has at most 30 characters."),
    ("national_id", "1" * 31, "An ID number has 18 characters."),
    ("employer", "E" * 201, "An employer name has at most 200 characters."),
    ("password", "a1" * 101, "A password has at most 200 characters."),
]


@pytest.mark.parametrize(("field", "value", "message"), LONG_FIELDS)
def test_over_long_user_fields_are_refused_by_the_api(app, client, people, field, value,
                                                       message):
    client.login("admin")
    before = count_users(app)
    body = {"name": "Long Field", "phone": "13700000081", "role": "worker", field: value}
    response = client.post("/api/v1/users", json=body, headers=api_headers(client))
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"]["fields"][field] == message
    assert count_users(app) == before


def test_over_long_fields_in_a_user_file_are_listed_by_row(app, client, people):
    import io

    client.login("admin")
    before = count_users(app)
    rows = "name,phone,employer\nGood,13700000091,\n" + "N" * 300 + ",13700000092,\n"
    rows += "Far,13700000093," + "E" * 5000 + "\n"
    response = client.post_form("/admin/users/import",
                                {"file": (io.BytesIO(rows.encode()), "long.csv")},
                                content_type="multipart/form-data", headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A name has at most 100 characters." in page
    assert "An employer name has at most 200 characters." in page
    assert "E" * 201 not in page  # the over-long value is not echoed back
    assert count_users(app) == before


# -- an unexpected error is logged ------------------------------------------------------------

def test_an_unexpected_error_is_logged_with_its_traceback(database_url, tmp_path, caplog):
    config = base_config(database_url, tmp_path)
    config["TESTING"] = False
    app = create_app(config)

    def boom():
        raise RuntimeError("kaboom-for-the-log")

    boom.access = "public"
    app.add_url_rule("/test-boom", "test_boom", boom)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = app.test_client().get("/test-boom", headers=EN)
    assert response.status_code == 500
    assert "Nothing was changed" in response.get_data(as_text=True)
    records = [r for r in caplog.records if r.exc_info and "kaboom-for-the-log" in str(r.exc_info[1])]
    assert records and "/test-boom" in records[0].getMessage()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_no_page_answers_a_huge_or_garbage_page_argument_with_a_500(app, client, people):
    """Every GET route, as an admin, with ?page=/?offset=/?limit= absurd or not numbers."""
    from tests.integration.test_role_access import endpoints, fill

    client.login("admin")
    problems = []
    for rule, _view in endpoints(app):
        if "GET" not in rule.methods or rule.endpoint in {"accounts.logout"}:
            continue
        url = fill(rule, people)
        for query in (f"page={HUGE}&offset={HUGE}&limit={HUGE}", "page=-1&offset=-1&limit=-1",
                      "page=abc&offset=x&limit=y", f"page={2**31}"):
            status = client.get(f"{url}?{query}").status_code
            if status >= 500:
                problems.append(f"{url}?{query}: {status}")
    assert problems == []
