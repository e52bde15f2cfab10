import contextlib
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.missing import missing
from trainer.accounts.models import LoginFailure, User
from trainer.db import db


def test_worker_logs_in_with_mobile_number_and_out(client, people):
    client.login("13800000001")
    home = client.get("/")
    assert home.status_code == 200
    assert "Wang Worker" in home.get_data(as_text=True)
    assert client.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_staff_log_in_with_username_case_insensitively(client, people):
    client.login("Teacher")
    assert client.get("/").status_code == 200


def test_wrong_password_gets_a_clear_message_and_no_session(client, people):
    response = client.post_form("/login", {"login": "13800000001", "password": "nope-123456"},
                                headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert "Wrong mobile number, username or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_login_is_answered_like_a_wrong_password(client, people):
    response = client.post_form("/login", {"login": "13700000000", "password": "nope-123456"},
                                headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert "Wrong mobile number, username or password." in response.get_data(as_text=True)


def test_login_is_locked_after_repeated_failures_even_with_the_right_password(app, client, people):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert client.post_form("/login", {"login": "teacher", "password": "wrong-1234"}
                                ).status_code == 401
    response = client.post_form("/login", {"login": "teacher", "password": PASSWORD},
                                headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert "Too many wrong attempts" in response.get_data(as_text=True)
    # Another account from the same address is not locked out by one person's typos.
    client.login("13800000001")


def test_the_limit_holds_across_processes(app, client, people, database_url):
    """Failures made by another OS process (another gunicorn worker) count here too."""
    limit = app.config["LOGIN_MAX_FAILURES"]
    script = (
        "from trainer import create_app\n"
        "from trainer.accounts import services\n"
        f"app = create_app({{'TESTING': True, 'SECRET_KEY': 'x'*32, 'DATABASE_URL': {database_url!r}}})\n"
        "with app.app_context():\n"
        f"    for _ in range({limit}):\n"
        "        assert services.authenticate('teacher', 'wrong-1234', '10.1.1.1') is None\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    response = client.post_form("/login", {"login": "teacher", "password": PASSWORD})
    assert response.status_code == 429


def test_redis_store_limits_across_app_instances(app, people):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        missing("Redis is not running on 127.0.0.1:6379 (start it with redis-server)")
    from trainer.accounts import ratelimit, services

    with app.app_context():
        app.config["REDIS_URL"] = url
        try:
            ratelimit.RedisStore(url).clear(ratelimit.login_key("teacher"))
            for _ in range(app.config["LOGIN_MAX_FAILURES"]):
                assert services.authenticate("teacher", "bad-pass-1", "10.0.0.9") is None
            with pytest.raises(services.LoginLocked):
                services.authenticate("teacher", PASSWORD, "10.0.0.9")
            # nothing was written to the database store
            assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0
        finally:
            ratelimit.RedisStore(url).clear(ratelimit.login_key("teacher"))
            ratelimit.RedisStore(url).clear(ratelimit.address_key("10.0.0.9"))
            app.config["REDIS_URL"] = None


def test_form_without_csrf_token_is_refused_and_changes_nothing(app, client, people):
    client.login("admin")
    response = client.post("/admin/users/new", data={"name": "Forged", "phone": "13700000009",
                                                     "role": "admin"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.phone == "13700000009")) is None


def test_logout_needs_a_post_with_csrf(client, people):
    client.login("13800000001")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_session_cookie_is_secure_httponly_and_lax_in_production(app, people):
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        c = app.test_client()
        c.get("/login", base_url="https://localhost")
        cookie = c.get_cookie("session", domain="localhost")
        assert cookie is not None
        assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def test_next_parameter_cannot_redirect_off_site(client, people):
    token = client.csrf()
    response = client.post("/login?next=https://evil.example/", data={
        "login": "13800000001", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_change_password(app, client, people):
    client.login("13800000001")
    response = client.post_form("/account/password", {
        "current_password": "wrong-one-1", "new_password": "new-pass-123",
        "confirm": "new-pass-123"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The current password is wrong." in response.get_data(as_text=True)
    response = client.post_form("/account/password", {
        "current_password": PASSWORD, "new_password": "short", "confirm": "short"},
        headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "at least 8 characters" in response.get_data(as_text=True)
    response = client.post_form("/account/password", {
        "current_password": PASSWORD, "new_password": "new-pass-123",
        "confirm": "new-pass-123"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session stays logged in
    client.logout()
    assert client.post_form("/login", {"login": "13800000001", "password": PASSWORD}
                            ).status_code == 401
    client.login("13800000001", "new-pass-123")


def test_changing_password_logs_out_other_sessions(app, people):
    from tests.conftest import Client

    app.test_client_class = Client
    phone, laptop = app.test_client(), app.test_client()
    phone.login("13800000001")
    laptop.login("13800000001")
    phone.post_form("/account/password", {"current_password": PASSWORD,
                                          "new_password": "new-pass-123",
                                          "confirm": "new-pass-123"})
    assert phone.get("/").status_code == 200
    assert laptop.get("/").status_code == 302


def test_a_new_account_must_choose_its_own_password(app, client, people):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == people["worker"])
                           .values(must_change_password=True))
        db.session.commit()
    client.login("13800000001")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"


def test_inactive_user_cannot_log_in(app, client, people):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == people["worker"]).values(active=False))
        db.session.commit()
    assert client.post_form("/login", {"login": "13800000001", "password": PASSWORD}
                            ).status_code == 401


# -- the limit cannot be dodged: other spellings, padding, parallel requests --------------

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["database", "redis"])
def login_store(request, app):
    """Run a test against each rate-limit store (Redis: db 15, skipped when not running)."""
    if request.param == "database":
        yield request.param
        return
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        missing("Redis is not running on 127.0.0.1:6379 (start it with redis-server)")

    def flush():
        for key in client.scan_iter("trainer:login-failures:*"):
            client.delete(key)

    flush()
    app.config["REDIS_URL"] = REDIS_TEST_URL
    try:
        yield request.param
    finally:
        app.config["REDIS_URL"] = None
        flush()


def fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


SPELLINGS = ["+86 138 0000 0001", "0086-138-0000-0001", "138 0000 0001",
             fullwidth("13800000001"), "  13800000001  ", "138" + " " * 45 + "00000001"]


@pytest.mark.parametrize("via", ["api", "form"])
def test_other_spellings_of_a_number_share_its_limit(app, client, people, login_store, via):
    def attempt(login, password):
        if via == "api":
            return client.post("/api/v1/tokens", json={"login": login, "password": password})
        return client.post_form("/login", {"login": login, "password": password})

    limit = app.config["LOGIN_MAX_FAILURES"]
    for i in range(limit):
        assert attempt(SPELLINGS[i % len(SPELLINGS)], "wrong-1234").status_code == 401
    assert attempt("13800000001", PASSWORD).status_code == 429


def test_an_over_long_login_is_refused_before_any_lookup(app, client, people, monkeypatch):
    # Padding inside the number still matched the phone user, but made a rate-limit key
    # longer than its column: a 500 on PostgreSQL and nothing counted.
    from trainer.accounts import services

    def no_lookup(*args, **kwargs):
        raise AssertionError("an over-long login must not reach authenticate")

    monkeypatch.setattr(services, "authenticate", no_lookup)
    padded = "138" + " " * 250 + "00000001"
    response = client.post("/api/v1/tokens", json={"login": padded, "password": "wrong-1234"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid"
    assert "at most 60 characters" in response.json["error"]["message"]
    response = client.post("/api/v1/tokens", json={"login": "teacher", "password": "x" * 201})
    assert response.status_code == 400
    response = client.post_form("/login", {"login": padded, "password": "wrong-1234"},
                                headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert ("A mobile number or username has at most 60 characters."
            in response.get_data(as_text=True))
    response = client.post_form("/login", {"login": padded, "password": "wrong-1234"},
                                headers={"Accept-Language": "zh-CN"})
    assert "最多 60 个字符" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


def test_parallel_attempts_cannot_exceed_the_limit(app, people, login_store, monkeypatch):
    """Requests that arrive while others are being checked count before their password does."""
    from trainer.accounts import services

    real_check = services.check_password_hash
    checked = []

    def slow_check(hashed, password):
        checked.append(password)
        if len(checked) == 1:  # ten more guesses arrive while the first is being checked
            for n in range(10):
                with contextlib.suppress(services.LoginLocked):
                    services.authenticate("teacher", f"guess-{n}", "10.0.0.7")
        return real_check(hashed, password)

    monkeypatch.setattr(services, "check_password_hash", slow_check)
    with app.app_context():
        assert services.authenticate("teacher", "guess-first", "10.0.0.7") is None
        assert len(checked) == app.config["LOGIN_MAX_FAILURES"]
        with pytest.raises(services.LoginLocked):
            services.authenticate("teacher", PASSWORD, "10.0.0.7")


def test_successful_log_ins_from_one_address_never_add_up(app, people, login_store):
    """Many workers behind one NAT address log in all day; only failures count there."""
    from trainer.accounts import ratelimit, services

    limit = app.config["LOGIN_MAX_FAILURES"]
    window = app.config["LOGIN_WINDOW_SECONDS"]
    with app.app_context():
        for n in range(limit * 10 + 5):
            login = "teacher" if n % 2 else "13800000001"
            assert services.authenticate(login, PASSWORD, "10.0.0.8") is not None
        store = ratelimit.store()
        assert store.count(ratelimit.address_key("10.0.0.8"), window) == 0
        # failures still count there, and a success clears only its own login's failures
        for _ in range(limit - 1):
            assert services.authenticate("teacher", "wrong-1234", "10.0.0.8") is None
        assert services.authenticate("13800000001", "wrong-1234", "10.0.0.8") is None
        assert services.authenticate("teacher", PASSWORD, "10.0.0.8") is not None
        assert store.count(ratelimit.login_key("teacher"), window) == 0
        assert store.count(ratelimit.login_key("+86 13800000001"), window) == 1
        assert store.count(ratelimit.address_key("10.0.0.8"), window) == limit


def test_refused_attempts_do_not_extend_the_lock(app, people, login_store):
    from trainer.accounts import ratelimit, services

    limit = app.config["LOGIN_MAX_FAILURES"]
    with app.app_context():
        for _ in range(limit):
            assert services.authenticate("teacher", "wrong-1234", "10.0.0.6") is None
        for _ in range(3):
            with pytest.raises(services.LoginLocked):
                services.authenticate("teacher", PASSWORD, "10.0.0.6")
        window = app.config["LOGIN_WINDOW_SECONDS"]
        assert ratelimit.store().count(ratelimit.login_key("teacher"), window) == limit


def test_parallel_guesses_from_threads_cannot_exceed_the_limit(app, people, login_store,
                                                               monkeypatch):
    """Many requests at once (threads, each with its own session): at most the limit of
    passwords are checked, and the right password is refused afterwards."""
    import threading

    from trainer.accounts import services

    real_check = services.check_password_hash
    checked = []
    guard = threading.Lock()

    def slow_check(hashed, password):
        with guard:
            checked.append(password)
        time.sleep(0.05)  # every thread is in here at once
        return real_check(hashed, password)

    monkeypatch.setattr(services, "check_password_hash", slow_check)
    threads_n = 3 * app.config["LOGIN_MAX_FAILURES"]
    start = threading.Barrier(threads_n)
    outcomes = []

    def guess(n):
        with app.app_context():
            start.wait()
            try:
                outcomes.append(services.authenticate(" Teacher", f"guess-{n}", f"10.0.1.{n}"))
            except services.LoginLocked:
                outcomes.append("locked")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == threads_n
    assert len(checked) <= app.config["LOGIN_MAX_FAILURES"]  # 0 when all counted at once
    assert outcomes.count("locked") == threads_n - len(checked)
    # However the race went, guessing on finds the lock after exactly the limit of checks.
    with app.app_context():
        for n in range(threads_n):
            try:
                assert services.authenticate("teacher", f"later-{n}", "10.0.2.1") is None
            except services.LoginLocked:
                break
        assert len(checked) == app.config["LOGIN_MAX_FAILURES"]
        with pytest.raises(services.LoginLocked):
            services.authenticate("teacher", PASSWORD, "10.0.2.1")
