import re

import sqlalchemy as sa

from tests.conftest import PASSWORD
from trainer.accounts.models import User
from trainer.db import db


def token_for(client, login, password=PASSWORD):
    response = client.post("/api/v1/tokens", json={"login": login, "password": password})
    assert response.status_code == 201, response.json
    return response.json["token"], response.json["id"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_flow_and_revocation(client, people):
    token, token_id = token_for(client, "13800000001")
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json["name"] == "Wang Worker"
    assert me.json["national_id"].count("*") == 8  # masked in the API too
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(token)).status_code == 204
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_errors_have_a_stable_json_shape(client, people):
    wrong = client.post("/api/v1/tokens", json={"login": "13800000001", "password": "nope"})
    assert wrong.status_code == 401
    assert set(wrong.json["error"]) >= {"code", "message"}
    assert wrong.json["error"]["code"] == "invalid_credentials"
    garbage = client.post("/api/v1/tokens", data="not json", content_type="application/json")
    assert garbage.status_code == 400 and garbage.json["error"]["code"] == "bad_request"
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/me", headers=bearer("forged")).status_code == 401


def test_api_login_is_rate_limited_like_the_page(app, client, people):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/api/v1/tokens", json={"login": "teacher", "password": "bad-12345"})
    response = client.post("/api/v1/tokens", json={"login": "teacher", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "too_many_requests"


def test_users_api_applies_the_same_role_checks(app, client, people):
    worker, _ = token_for(client, "13800000001")
    safety, _ = token_for(client, "safety")
    admin, _ = token_for(client, "admin")
    assert client.get("/api/v1/users", headers=bearer(worker)).status_code == 403
    names = {u["name"] for u in client.get("/api/v1/users", headers=bearer(safety)).json["users"]}
    assert "Wang Worker" in names and "Oscar Other" not in names and "Ada Admin" not in names
    assert client.get(f"/api/v1/users/{people['other_worker']}",
                      headers=bearer(safety)).status_code == 404
    assert len(client.get("/api/v1/users", headers=bearer(admin)).json["users"]) == 6


def test_create_user_over_the_api_validates_fields(app, client, people):
    admin, _ = token_for(client, "admin")
    bad = client.post("/api/v1/users", headers=bearer(admin),
                      json={"name": "X", "phone": "123", "national_id": "110105194912310021"})
    assert bad.status_code == 422
    assert set(bad.json["error"]["details"]["fields"]) == {"phone", "national_id"}
    good = client.post("/api/v1/users", headers=bearer(admin),
                       json={"name": "API Worker", "phone": "13500000001", "role": "worker"})
    assert good.status_code == 201 and good.json["initial_password"]
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.phone == "13500000001"))


def test_session_callers_need_the_csrf_header_for_unsafe_api_calls(client, people):
    client.login("admin")
    assert client.get("/api/v1/me").status_code == 200
    refused = client.post("/api/v1/users", json={"name": "Forged", "phone": "13500000002"})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    token = client.csrf("/")
    ok = client.post("/api/v1/users", json={"name": "Real", "phone": "13500000003"},
                     headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_openapi_documents_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule[len("/api/v1"):]
        import re

        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", path)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((path, method.lower()))
    assert routed - documented == set(), "undocumented API routes"
    assert documented - routed == set(), "documented paths that do not exist"


def fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_full_width_digits_cannot_register_a_number_twice(app, client, people):
    with app.app_context():
        worker = db.session.get(User, people["worker"])
        national_id, phone = worker.national_id, worker.phone
    admin, _ = token_for(client, "admin")
    response = client.post("/api/v1/users", headers=bearer(admin), json={
        "name": "dup", "national_id": fullwidth(national_id),
        "phone": phone[:2] + fullwidth(phone[2:])})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"phone", "national_id"}
    fresh = client.post("/api/v1/users", headers=bearer(admin), json={
        "name": "全角", "phone": fullwidth("13500000077")})
    assert fresh.status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(User.phone).where(User.name == "全角")) == "13500000077"


# -- a new password ends old tokens; an admin-set password gets none ------------------------

def test_changing_the_password_revokes_the_users_api_tokens(app, client, people):
    api = app.test_client()  # bearer calls without the browser's session cookie
    token, _ = token_for(api, "13800000001")
    other, _ = token_for(api, "teacher")
    client.login("13800000001")
    response = client.post_form("/account/password", {
        "current_password": PASSWORD, "new_password": "brand-new-77", "confirm": "brand-new-77"})
    assert response.status_code == 302
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert api.get("/api/v1/me", headers=bearer(other)).status_code == 200  # others keep theirs
    fresh, _ = token_for(api, "13800000001", "brand-new-77")
    assert api.get("/api/v1/me", headers=bearer(fresh)).status_code == 200


def test_an_admin_reset_revokes_tokens_and_none_is_issued_until_the_user_changes_it(
        app, client, people):
    api = app.test_client()
    token, _ = token_for(api, "13800000001")
    client.login("safety")
    page = client.post_form(f"/admin/users/{people['worker']}/reset-password").get_data(
        as_text=True)
    initial = re.search(r'data-testid="initial-password"[^>]*>([^<]+)<', page).group(1).strip()
    client.logout()
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    response = api.post("/api/v1/tokens", json={"login": "13800000001", "password": initial},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "password_change_required"
    assert "choose your own password" in response.json["error"]["message"]
    from trainer.accounts.models import ApiToken

    with app.app_context():
        live = db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
            ApiToken.user_id == people["worker"], ApiToken.revoked_at.is_(None)))
        assert live == 0
    client.login("13800000001", initial)
    assert client.post_form("/account/password", {
        "current_password": initial, "new_password": "mine-now-88", "confirm": "mine-now-88"}
    ).status_code == 302
    token_for(api, "13800000001", "mine-now-88")


def test_the_api_waits_for_an_admin_set_password_to_be_changed(app, client, people):
    """Signed in with the password an admin set, the pages send you to change it; the API
    (with the session cookie) answers 403 until you have."""
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == people["worker"])
                           .values(must_change_password=True))
        db.session.commit()
    client.login("13800000001")
    response = client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "password_change_required"
    assert client.get("/api/v1/openapi.json").status_code == 200  # public stays public
    assert client.post_form("/account/password", {
        "current_password": PASSWORD, "new_password": "own-choice-5",
        "confirm": "own-choice-5"}).status_code == 302
    assert client.get("/api/v1/me").status_code == 200
