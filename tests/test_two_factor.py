"""Two-factor sign-in over real HTTP and a real database: who must have it, setting up the
authenticator app, codes (replay, clock skew, rate limit), recovery codes, remembered phones,
and that it never comes between a signed-in worker and I'm safe or Crisis."""
import re
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, AuditEvent, Team, TrustedDevice, User
from app.models.types import utcnow
from app.services import two_factor
from tests.conftest import _signed_in
from tests.helpers import csrf_from
from tests.test_safety_web import running, start_visit

SET_UP = "/login/set-up-second-factor"
ENTER = "/login/second-factor"


def _set(engine, persona, **values):
    with unit_of_work(engine) as session:
        user = session.get(User, persona.id)
        for name, value in values.items():
            setattr(user, name, value)


def _enrolled(engine, persona, secret=None) -> str:
    """Give the account an authenticator secret (as if set up earlier); returns it."""
    secret = secret or pyotp.random_base32()
    _set(engine, persona, totp_secret=secret, second_factor_exempt=False)
    return secret


def _code(secret, at=None, steps=0):
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(at or utcnow()) + steps)


def _enter(client, code, remember=False):
    data = {"code": code, **({"remember": "y"} if remember else {})}
    return client.post_form(ENTER, data)


@pytest.mark.parametrize("role, team_for_all, exempt, needed", [
    ("worker", False, False, False),
    ("worker", True, False, True),
    ("supervisor", False, False, True),
    ("admin", False, False, True),
    ("supervisor", True, True, False),   # the demo accounts
])
def test_who_must_have_a_second_factor(role, team_for_all, exempt, needed):
    user = User(email="x@example.org", name="X", role=role, password_hash="", second_factor_exempt=exempt)
    team = Team(name="T", second_factor_for_all=team_for_all)
    assert two_factor.required(user, team) is needed


def test_a_supervisor_who_is_not_exempt_sets_up_an_authenticator_before_being_signed_in(app, engine, personas):
    _set(engine, personas["supervisor"], second_factor_exempt=False)
    client = app.test_client()
    answer = client.login(personas["supervisor"].email)
    assert answer.status_code == 303 and answer.headers["Location"] == SET_UP
    assert client.get("/").status_code == 303  # not signed in yet
    page = client.get(SET_UP).get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page and 'alt="QR code to scan with your authenticator app"' in page
    secret = re.search(r"data-totp-key>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    token = csrf_from(page)  # posted straight back: loading the page again makes a new key
    wrong = client.post(SET_UP, data={"csrf_token": token, "code": "000000" if _code(secret) != "000000" else "111111"})
    assert wrong.status_code == 422 and "That code doesn&#39;t match" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 303
    shown = client.post(SET_UP, data={"csrf_token": token, "code": _code(secret)})
    codes = re.findall(r"data-recovery-code>([0-9a-f-]+)<", shown.get_data(as_text=True))
    assert shown.status_code == 200 and len(set(codes)) == 10
    signed_in = client.post("/login/set-up-second-factor/done", data={"csrf_token": token})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    with unit_of_work(engine) as session:
        user = session.get(User, personas["supervisor"].id)
        assert user.totp_secret == secret and two_factor.recovery_codes_left(session, user.id) == 10
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.actor_id == user.id))]
    assert "second_factor.enrol" in actions and secret not in str(actions)


def test_a_code_signs_in_once_and_a_code_one_step_old_is_accepted(app, engine, personas):
    secret = _enrolled(engine, personas["supervisor"])
    first = app.test_client()
    assert first.login(personas["supervisor"].email).headers["Location"] == ENTER
    old = _code(secret, steps=-1)  # the phone's clock 30 seconds behind
    answer = _enter(first, old)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    second = app.test_client()
    second.login(personas["supervisor"].email)
    replayed = _enter(second, old)
    assert replayed.status_code == 401 and "has been used already" in replayed.get_data(as_text=True)
    assert second.get("/").status_code == 303
    assert _enter(second, _code(secret, steps=-3)).status_code == 401  # 90 seconds old: too old
    assert _enter(second, _code(secret)).status_code == 303


def test_the_code_step_is_claimed_once_even_by_a_stale_copy_of_the_account(engine, personas):
    secret = _enrolled(engine, personas["supervisor"])
    now = utcnow()
    with unit_of_work(engine) as session:
        stale = session.get(User, personas["supervisor"].id)  # read by a request racing this one
        session.expunge(stale)
    with unit_of_work(engine) as session:
        assert two_factor.verify_totp(session, session.get(User, stale.id), _code(secret, now), now=now)
    with unit_of_work(engine) as session:
        assert stale.totp_last_step is None
        assert not two_factor.verify_totp(session, stale, _code(secret, now), now=now)


def test_each_recovery_code_works_once(app, engine, personas):
    _enrolled(engine, personas["supervisor"])
    with unit_of_work(engine) as session:
        codes = two_factor.new_recovery_codes(session, session.get(User, personas["supervisor"].id), now=utcnow())
    client = app.test_client()
    client.login(personas["supervisor"].email)
    assert _enter(client, codes[3].upper().replace("-", " ")).status_code == 303
    again = app.test_client()
    again.login(personas["supervisor"].email)
    assert _enter(again, codes[3]).status_code == 401
    assert _enter(again, codes[4]).status_code == 303
    with unit_of_work(engine) as session:
        assert two_factor.recovery_codes_left(session, personas["supervisor"].id) == 8


def test_wrong_codes_are_limited_like_passwords(app, engine, personas):
    secret = _enrolled(engine, personas["supervisor"])
    client = app.test_client()
    client.login(personas["supervisor"].email)
    good = _code(secret)
    bad = next(c for c in ("123456", "654321", "111111") if c not in {good, _code(secret, steps=1), _code(secret, steps=-1)})
    for _ in range(5):
        assert _enter(client, bad).status_code == 401
    refused = _enter(client, good)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many attempts" in refused.get_data(as_text=True)


def test_a_remembered_phone_skips_the_code_until_it_is_forgotten(app, engine, personas):
    secret = _enrolled(engine, personas["supervisor"])
    client = app.test_client()
    client.login(personas["supervisor"].email)
    answer = _enter(client, _code(secret), remember=True)
    assert answer.status_code == 303 and "fieldline_device=" in answer.headers["Set-Cookie"]
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    client.post_form("/logout", page="/")
    again = client.login(personas["supervisor"].email)
    assert again.status_code == 303 and again.headers["Location"] == "/"
    # A different phone, or a cookie not signed by this server, still needs the code.
    stranger = app.test_client()
    stranger.set_cookie("fieldline_device", "forged.value.here")
    assert stranger.login(personas["supervisor"].email).headers["Location"] == ENTER
    page = client.get("/account").get_data(as_text=True)
    assert "Remembered phones" in page
    assert client.post_form("/account/devices/forget", page="/account").status_code == 303
    client.post_form("/logout", page="/")
    assert client.login(personas["supervisor"].email).headers["Location"] == ENTER
    with unit_of_work(engine) as session:
        assert session.exec(select(TrustedDevice)).one().revoked_at is not None


def test_a_live_worker_keeps_im_safe_and_crisis_when_the_team_starts_requiring_a_second_factor(
        app, engine, personas, admin_client):
    _set(engine, personas["worker"], second_factor_exempt=False)
    worker = _signed_in(app, personas["worker"])
    assert start_visit(worker).status_code == 303
    visit = running(engine, personas["worker"])
    team_form = admin_client.get(f"/admin/teams/{personas['worker'].team_id}").get_data(as_text=True)
    assert "Everyone in this team signs in with a second factor" in team_form
    saved = admin_client.post_form(f"/admin/teams/{personas['worker'].team_id}", {
        "name": "Team A", "duty_phone": "07700900100", "grace_seconds": "300", "escalation_seconds": "300",
        "min_visit_minutes": "5", "max_visit_minutes": "240", "second_factor_for_all": "y"})
    assert saved.status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(Team, personas["worker"].team_id).second_factor_for_all
    assert worker.post_form(f"/visits/{visit.id}/check-in", page="/").status_code == 303
    assert worker.post_form(f"/visits/{visit.id}/extend", {"minutes": "15"}, page="/").status_code == 303
    assert worker.post_form(f"/visits/{visit.id}/end", page="/").status_code == 303
    assert worker.post("/crisis/alarm", data={"csrf_token": worker.csrf_token()}).status_code == 303
    with unit_of_work(engine) as session:
        assert session.exec(select(Alert).where(Alert.kind == "panic")).one()
    # Their next sign-in is the one that asks them to set it up.
    assert app.test_client().login(personas["worker"].email).headers["Location"] == SET_UP


def test_the_account_page_lists_devices_and_signs_out_another(app, engine, personas):
    phone = _signed_in(app, personas["worker"])
    laptop = app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                              "(KHTML, like Gecko) Chrome/131.0 Safari/537.36")
    assert laptop.login(personas["worker"].email).status_code == 303
    page = phone.get("/account").get_data(as_text=True)
    assert "Chrome on Windows" in page and "This device" in page and "From network 127.0.0.x" in page
    assert phone.post_form("/account/sessions/end", page="/account").status_code == 303
    assert laptop.get("/").status_code == 303  # signed out
    assert phone.get("/").status_code == 200


def test_sensitive_changes_ask_to_confirm_its_you_after_ten_minutes(app, engine, personas, monkeypatch):
    from app.auth import sudo

    secret = _enrolled(engine, personas["supervisor"])
    client = app.test_client()
    client.login(personas["supervisor"].email)
    _enter(client, _code(secret))
    # Just signed in: confirmed. Ten minutes later it is asked for again.
    assert client.post_form("/settings/safety", {"pin": "2468", "duress_pin": "1357"},
                            page="/settings/safety").status_code == 303
    later = utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(sudo, "utcnow", lambda: later)
    for path, page in (("/account/recovery-codes", "/account"), ("/settings/safety", "/settings/safety"),
                       ("/settings/calendar", "/settings/calendar")):
        asked = client.post_form(path, {"pin": "1122", "duress_pin": "3344"}, page=page,
                                 headers={"Referer": "http://localhost" + page})
        assert asked.status_code == 303 and asked.headers["Location"] == "/confirm", path
    page = client.get("/confirm").get_data(as_text=True)
    assert "Code from your authenticator app" in page
    wrong = client.post_form("/confirm", {"password": "correct horse battery staple", "code": "000000"
                                          if _code(secret, later) != "000000" else "111111"})
    assert wrong.status_code == 401
    confirmed = client.post_form("/confirm", {"password": "correct horse battery staple",
                                              "code": _code(secret, later)})
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/settings/calendar"
    assert client.post_form("/account/recovery-codes", page="/account").status_code == 200


def test_an_admin_confirms_before_changing_a_role(app, engine, personas, admin_client, monkeypatch):
    from app.auth import sudo

    worker = personas["worker"]
    later = utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(sudo, "utcnow", lambda: later)
    form = {"name": worker.name, "email": worker.email, "team_id": str(worker.team_id), "phone": "07700900111",
            "active": "y"}
    assert admin_client.post_form(f"/admin/users/{worker.id}", {**form, "role": "worker"}).status_code == 303
    asked = admin_client.post_form(f"/admin/users/{worker.id}", {**form, "role": "supervisor"})
    assert asked.status_code == 303 and asked.headers["Location"] == "/confirm"
    with unit_of_work(engine) as session:
        assert session.get(User, worker.id).role == "worker"


def test_changing_the_password_confirms_first_and_signs_out_other_devices(app, engine, personas, monkeypatch):
    from app.auth import sudo

    phone, laptop = _signed_in(app, personas["worker"]), _signed_in(app, personas["worker"])
    weak = phone.post_form("/account/password", {"password": "password1234"})
    assert weak.status_code == 422 and 'id="password-error"' in weak.get_data(as_text=True)
    assert phone.post_form("/account/password", {"password": "lantern orchard velvet ninety"}).status_code == 303
    assert laptop.get("/").status_code == 303 and phone.get("/").status_code == 200
    assert app.test_client().login(personas["worker"].email, "lantern orchard velvet ninety").status_code == 303
    later = utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(sudo, "utcnow", lambda: later)
    assert phone.get("/account/password").headers["Location"] == "/confirm"
