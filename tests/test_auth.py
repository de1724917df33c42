import re
import sqlite3
from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, LoginSession, User
from app.models.types import utcnow
from app.services import auth as auth_service
from tests.conftest import USE_PG
from tests.helpers import csrf_from

FAILED = "That email and password don&#39;t match an active account"


def test_login_form_has_the_documented_fields(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("email", "password", "csrf_token"):
        assert f'name="{name}"' in html


def test_good_login_goes_home_and_shows_the_workers_today_page(client, personas):
    response = client.login(personas["worker"].email)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "<h1>Today</h1>" in home.get_data(as_text=True)


def test_each_role_gets_its_own_home_page(supervisor_client, admin_client):
    assert "Open alerts" in supervisor_client.get("/").get_data(as_text=True)  # the team board
    assert "<h1>Administration</h1>" in admin_client.get("/").get_data(as_text=True)


def test_wrong_password_and_unknown_account_fail_the_same_way(client, personas):
    wrong = client.login(personas["worker"].email, "not the right password")
    unknown = client.login("nobody@nowhere.example", "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert FAILED in wrong.get_data(as_text=True)
    assert FAILED in unknown.get_data(as_text=True)
    # The typed email is kept so the worker only retypes the password.
    assert 'value="nobody@nowhere.example"' in unknown.get_data(as_text=True)


def test_the_sixth_rapid_failed_login_is_throttled(client, personas):
    statuses = [client.login(personas["worker"].email, f"wrong password {i}").status_code for i in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    assert "Too many attempts" in client.login(personas["worker"].email).get_data(as_text=True)


def test_an_attacker_hammering_an_account_never_locks_out_its_owner(app, personas):
    attacker, owner = app.test_client(), app.test_client()
    attacker.environ_base["REMOTE_ADDR"], owner.environ_base["REMOTE_ADDR"] = "203.0.113.9", "198.51.100.7"
    email = personas["worker"].email
    statuses = [attacker.login(email, f"wrong password {i}").status_code for i in range(12)]
    assert statuses == [401] * 5 + [429] * 7  # no password is checked once the wait has begun
    refused = attacker.login(email)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 30
    assert re.search(r"Wait [0-9]+ seconds before trying again\.", refused.get_data(as_text=True))
    assert f'value="{email}"' in refused.get_data(as_text=True)  # what was typed is kept
    assert owner.login(email).status_code == 303


def test_a_good_sign_in_clears_its_own_failures(client, personas):
    email = personas["worker"].email
    for i in range(4):
        assert client.login(email, f"wrong password {i}").status_code == 401
    assert client.login(email).status_code == 303
    client.post_form("/logout", page="/")
    assert [client.login(email, f"wrong again {i}").status_code for i in range(5)] == [401] * 5


def test_throttling_is_per_account(client, personas):
    for i in range(5):
        client.login(personas["worker"].email, f"wrong password {i}")
    # Another account from the same address can still sign in.
    assert client.login(personas["worker2"].email).status_code == 303


def test_post_without_csrf_token_is_refused(client, personas):
    response = client.post("/login", data={"email": personas["worker"].email, "password": "correct horse battery staple"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_logout_without_csrf_token_is_refused(worker_client):
    assert worker_client.post("/logout").status_code == 400
    assert worker_client.get("/").status_code == 200  # still signed in


def test_deactivated_user_cannot_log_in_and_is_signed_out(app, engine, client, worker_client, personas):
    with unit_of_work(engine) as session:
        session.get(User, personas["worker"].id).active = False
    assert worker_client.get("/").status_code == 303  # the open session no longer works
    response = client.login(personas["worker"].email)
    assert response.status_code == 401
    assert FAILED in response.get_data(as_text=True)


def test_logout_ends_the_session_on_the_server(app, worker_client):
    cookie = worker_client.get_cookie("fieldline_session")
    token = csrf_from(worker_client.get("/").get_data(as_text=True))
    response = worker_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert "storage" in response.headers["Clear-Site-Data"]
    # Replaying the old cookie does not bring the session back.
    replay = app.test_client()
    replay.set_cookie("fieldline_session", cookie.value)
    assert replay.get("/").status_code == 303


def test_idle_sessions_expire(engine, worker_client, personas):
    with unit_of_work(engine) as session:
        for login in session.exec(select(LoginSession)).all():
            login.last_seen_at = utcnow() - timedelta(hours=8, minutes=1)
    response = worker_client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"


def test_passwords_are_hashed_with_argon2id(engine, personas):
    with unit_of_work(engine) as session:
        user = session.get(User, personas["worker"].id)
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash


def test_session_cookie_flags(client, personas):
    response = client.login(personas["worker"].email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1 in tests


def test_secure_cookie_when_configured(database_url, tmp_path, personas):
    from app import create_app
    from tests.helpers import FieldlineClient

    secure_app = create_app({"DATABASE_URL": database_url, "FIELDLINE_INSTANCE": tmp_path / "s",
                             "FIELDLINE_SECURE_COOKIES": "true"})
    secure_app.test_client_class = FieldlineClient
    client = secure_app.test_client()
    response = client.login(personas["worker"].email)
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    secure_app.extensions["fieldline.engine"].dispose()


def test_unauthenticated_htmx_request_gets_hx_redirect(client):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/login"
    assert response.get_data(as_text=True) == ""


def test_login_returns_to_the_page_asked_for(client, personas):
    client.get("/admin/users")
    response = client.login(personas["admin"].email)
    assert response.headers["Location"] == "/admin/users"


def test_sign_in_and_out_are_audited(engine, client, personas):
    client.login(personas["worker"].email, "a wrong password here")
    client.login(personas["worker"].email)
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    with unit_of_work(engine) as session:
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
        events = session.exec(select(AuditEvent)).all()
    assert actions == ["login.failure", "login.success", "logout"]
    assert all(e.ip == "127.0.0.1" for e in events)
    # The failed attempt does not store what was typed in the email box.
    assert personas["worker"].email not in (events[0].detail or "")


def test_checking_a_password_leaves_sqlites_write_lock_to_check_ins(app, client, engine, personas, monkeypatch):
    """Argon2 takes a while (over a second on a loaded machine): an I'm safe must not wait for it."""
    if USE_PG:
        pytest.skip("about SQLite's single write lock")
    took = []

    class WritesWhileVerifying:
        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def verify(self, stored, password):
            other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the sign-in held it
                other.execute("ROLLBACK")
                took.append("free")
            finally:
                other.close()
            return self.real.verify(stored, password)

    monkeypatch.setattr(auth_service, "_hasher", WritesWhileVerifying(auth_service._hasher))
    assert client.login(personas["worker"].email).status_code == 303
    assert took == ["free"]
