"""Invitations and password resets by email, through a real SMTP server (aiosmtpd): single-use
links, expiry, the same answer for known and unknown addresses, the rate limit, and a reset
ending every other session."""
import re
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from app import create_app
from app.db import unit_of_work
from app.models import AccountToken, User
from app.models.types import utcnow
from app.services import account_links
from tests.conftest import app_config
from tests.helpers import FieldlineClient
from tests.peers import smtp_server

NEW_PASSWORD = "lantern orchard velvet ninety"


@pytest.fixture
def mailbox():
    with smtp_server() as box:
        yield box


@pytest.fixture
def app(database_url, tmp_path, mailbox):
    """The usual test app, sending its mail to the real SMTP server above."""
    application = create_app({**app_config(database_url, tmp_path / "instance"), "SMTP_URL": mailbox.url})
    application.test_client_class = FieldlineClient
    yield application
    application.extensions["fieldline.engine"].dispose()


def _link(mailbox, to):
    recipients, message = mailbox.wait_for(1)[-1]
    assert recipients == [to]
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/password/link/\S+)", text).group(1), message


def _choose(client, link, password=NEW_PASSWORD):
    opened = client.get(link)
    assert opened.status_code == 303 and opened.headers["Location"] == "/password/new"
    return client.post_form("/password/new", {"password": password})


def test_an_invited_supervisor_chooses_a_password_then_sets_up_a_second_factor(admin_client, client, engine,
                                                                                mailbox, personas):
    created = admin_client.post_form("/admin/users/new", {
        "name": "Nia New", "email": "nia@a.example", "role": "supervisor", "team_id": str(personas["worker"].team_id)})
    assert created.status_code == 303
    assert "Emailed an invitation to nia@a.example" in admin_client.get("/admin/users").get_data(as_text=True)
    link, message = _link(mailbox, "nia@a.example")
    assert message["Subject"] == "Your Fieldline account" and "72 hours" in message.get_body(("plain",)).get_content()
    weak = _choose(client, link, "password1234")
    assert weak.status_code == 422 and 'id="password-error"' in weak.get_data(as_text=True)
    chosen = client.post_form("/password/new", {"password": NEW_PASSWORD})
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/login/set-up-second-factor"
    assert client.get(link).status_code == 410  # single use
    with unit_of_work(engine) as session:
        assert session.exec(select(AccountToken)).one().used_at is not None


def test_reset_answers_the_same_for_known_and_unknown_addresses(app, mailbox, personas):
    answers = []
    for email in (personas["worker"].email, "nobody@a.example"):
        client = app.test_client()
        sent = client.post_form("/password/forgot", {"email": email})
        page = client.get(sent.headers["Location"]).get_data(as_text=True)
        answers.append((sent.status_code, sent.headers["Location"], re.sub(r'(value="|"X-CSRFToken": ")[^"]+', "", page)))
    assert answers[0] == answers[1] and answers[0][0] == 303
    assert "If an active account uses that address" in answers[0][2]
    assert [to for to, _ in mailbox.wait_for(1)] == [[personas["worker"].email]]


def test_a_known_address_is_answered_before_its_email_is_sent(database_url, tmp_path, personas):
    """How long the mail server takes must not tell anyone that an address has an account: with the
    mail server hung, a known address is answered as soon as an unknown one."""
    from tests.peers import HangingServer

    with HangingServer() as mail:
        application = create_app({**app_config(database_url, tmp_path / "hung"), "SMTP_URL": mail.url})
        application.test_client_class = FieldlineClient
        try:
            for email in ("nobody@a.example", personas["worker"].email):
                started = time.monotonic()
                answer = application.test_client().post_form("/password/forgot", {"email": email})
                assert answer.status_code == 303
                assert time.monotonic() - started < 5  # the mail server's timeout is 15 s
            deadline = time.monotonic() + 10
            while not mail.connections and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(mail.connections) == 1  # the known address's email was still sent for
        finally:
            application.extensions["fieldline.engine"].dispose()


def test_a_reset_ends_other_sessions_and_its_link_works_once(app, worker_client, client, mailbox, personas):
    worker = personas["worker"]
    client.post_form("/password/forgot", {"email": worker.email})
    link, _ = _link(mailbox, worker.email)
    answer = _choose(client, link)
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    assert worker_client.get("/").status_code == 303  # the other session has ended
    assert app.test_client().login(worker.email).status_code == 401  # old password
    assert app.test_client().login(worker.email, NEW_PASSWORD).status_code == 303
    again = app.test_client().get(link)
    assert again.status_code == 410 and "This link no longer works" in again.get_data(as_text=True)


def test_an_expired_reset_link_is_refused(app, engine, personas):
    with unit_of_work(engine) as session:
        token = account_links.issue(session, session.get(User, personas["worker"].id), "reset",
                                    now=utcnow() - timedelta(minutes=31))
    assert app.test_client().get(f"/password/link/{token}").status_code == 410


def test_reset_requests_are_rate_limited_alike_for_every_address(app, mailbox, personas):
    for email in (personas["worker"].email, "nobody@a.example"):
        client = app.test_client()
        answers = [client.post_form("/password/forgot", {"email": email}).status_code for _ in range(6)]
        assert answers == [303] * 5 + [429]
    assert len(mailbox.wait_for(5)) == 5


def test_an_admin_resets_a_lost_second_factor_and_the_user_is_told(app, admin_client, engine, mailbox, personas):
    import pyotp

    from app.models import TrustedDevice
    from app.services import two_factor

    supervisor = personas["supervisor"]
    with unit_of_work(engine) as session:
        user = session.get(User, supervisor.id)
        user.totp_secret = pyotp.random_base32()
        two_factor.new_recovery_codes(session, user, now=utcnow())
        two_factor.remember_device(session, user, now=utcnow(), user_agent=None)
    answer = admin_client.post_form(f"/admin/users/{supervisor.id}/second-factor/reset", page=f"/admin/users/{supervisor.id}")
    assert answer.status_code == 303
    recipients, message = mailbox.messages[-1]
    assert recipients == [supervisor.email] and message["Subject"] == "Your Fieldline sign-in was reset"
    with unit_of_work(engine) as session:
        user = session.get(User, supervisor.id)
        assert user.totp_secret is None and two_factor.recovery_codes_left(session, user.id) == 0
        assert session.exec(select(TrustedDevice)).one().revoked_at is not None
    user_page = admin_client.get(f"/admin/users/{supervisor.id}").get_data(as_text=True)
    assert "told by email" in user_page and "Reset their second factor" not in user_page
    assert admin_client.post_form(f"/admin/users/{personas['admin'].id}/second-factor/reset",
                                  page="/admin/users").status_code == 404  # not their own


def test_the_user_is_told_when_an_admin_signs_them_out_everywhere(admin_client, worker_client, mailbox, personas):
    worker = personas["worker"]
    assert admin_client.post_form(f"/admin/users/{worker.id}/sessions/end", page=f"/admin/users/{worker.id}").status_code == 303
    recipients, message = mailbox.messages[-1]
    assert recipients == [worker.email] and message["Subject"] == "You have been signed out of Fieldline"
    assert worker_client.get("/").status_code == 303
