"""Delivery through real peers: push (VAPID-checked, decrypted), SMTP, and the SMS gateway."""
import json
import re
import threading


import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import Delivery, PushSubscription, User
from app.models.types import utcnow
from app.services import delivery as delivery_service
from app.services import push_subscriptions, vapid
from app.services.delivery import DeliveryJob, Message
from app.worker import channel_config
from tests.peers import LOCAL_PUSH, PushReceiver, SmsGateway, b64url_decode, smtp_server

SAFETY = Message(kind="safety", event_ref="alert:1:level:1", title="Safety alert",
                 body="Open Fieldline", url="/alerts/1", ack_url="/alerts/1/acknowledge", topic="alert-1")


@pytest.fixture
def settings(app):
    return app.extensions["fieldline.settings"]


@pytest.fixture
def receiver(app, settings):
    key = vapid.application_server_key(vapid.load_or_create(None, settings.instance_path))
    with PushReceiver(application_server_key=key) as peer:
        yield peer


class SettledJob:
    """The delivery job, waiting for its sends to be recorded before it returns (the worker loop
    never waits; a test wants to look at the outcome)."""

    def __init__(self, job: DeliveryJob):
        self.job = job
        self.__name__ = "deliver"

    def __call__(self, engine, now):
        self.job(engine, now)
        assert self.job.drain(60), "sends still in flight after 60 s"
        return self.job.next_wake(engine)


def make_job(settings, *, owner="test-worker", timeout=5.0, lease=30, threads=4, **overrides):
    config = channel_config(settings)
    config.push_timeout = timeout
    for name, value in overrides.items():
        setattr(config, name, value)
    return SettledJob(DeliveryJob(config, owner=owner, lease_seconds=lease, threads=threads))


def subscribe(engine, persona, subscription):
    with unit_of_work(engine) as session:
        user = session.get(User, persona.id)
        return push_subscriptions.register(session, user, subscription, rule=LOCAL_PUSH, user_agent="test", now=utcnow()).id


def enqueue(engine, persona, message=SAFETY, now=None):
    with unit_of_work(engine) as session:
        return delivery_service.enqueue(session, message, session.get(User, persona.id), now=now or utcnow())


def deliveries(engine, **where):
    with unit_of_work(engine) as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return session.exec(query).all()


# ---- subscriptions over HTTP ----

def test_vapid_public_key_is_a_p256_point_and_stays_the_same(client, app, settings):
    key = client.get("/push/vapid-public-key").get_data(as_text=True)
    assert len(b64url_decode(key)) == 65 and b64url_decode(key)[0] == 4
    assert (settings.instance_path / "vapid_private.pem").exists()
    assert client.get("/push/vapid-public-key").get_data(as_text=True) == key


def test_browser_registers_a_device_with_its_subscription_json(worker_client, receiver, engine, personas):
    subscription = receiver.subscription()
    token = worker_client.csrf_token()
    response = worker_client.post("/push/subscriptions", json=subscription, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    again = worker_client.post("/push/subscriptions", json=subscription, headers={"X-CSRFToken": token})
    assert again.status_code == 201 and again.json["id"] == response.json["id"]  # same device, one row
    with unit_of_work(engine) as session:
        rows = session.exec(select(PushSubscription)).all()
    assert [(r.user_id, r.endpoint) for r in rows] == [(personas["worker"].id, subscription["endpoint"])]
    removed = worker_client.post("/push/subscriptions/remove", json={"endpoint": subscription["endpoint"]},
                                 headers={"X-CSRFToken": token})
    assert removed.status_code == 204
    with unit_of_work(engine) as session:
        assert session.exec(select(PushSubscription)).all() == []


@pytest.mark.parametrize("body, field", [
    ({"endpoint": "ftp://x", "keys": {"p256dh": "x", "auth": "y"}}, "endpoint"),
    ({"endpoint": "http://push.example.com/x", "keys": {}}, "endpoint"),
    ({"endpoint": "https://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}, "keys.p256dh"),
    ([1, 2, 3], ""),
])
def test_bad_subscriptions_are_refused_with_a_reason(worker_client, body, field):
    response = worker_client.post("/push/subscriptions", json=body, headers={"X-CSRFToken": worker_client.csrf_token()})
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_subscribing_needs_csrf_and_a_session(client, worker_client, receiver):
    assert worker_client.post("/push/subscriptions", json=receiver.subscription()).status_code == 400
    # A signed-out browser still has a CSRF token (from the login page): it gets 401, not a form.
    anonymous = client.post("/push/subscriptions", json=receiver.subscription(),
                            headers={"Accept": "application/json", "X-CSRFToken": client.csrf_token("/login")})
    assert anonymous.status_code == 401 and anonymous.json["error"] == "signed_out"


# ---- push through the loop to a real receiver ----

def test_push_is_encrypted_signed_urgent_and_carries_no_personal_data(engine, settings, receiver, personas):
    subscribe(engine, personas["worker"], receiver.subscription())
    assert enqueue(engine, personas["worker"]) >= 1
    make_job(settings)(engine, utcnow())
    assert receiver.errors == []
    [message] = receiver.messages
    assert message.payload == {"type": "safety", "ref": "alert:1:level:1", "title": "Safety alert",
                               "body": "Open Fieldline", "url": "/alerts/1", "ack_url": "/alerts/1/acknowledge",
                               "tag": "alert-1"}
    assert message.headers["urgency"] == "high"
    assert message.headers["topic"] == "alert-1"
    assert int(message.headers["ttl"]) == 4 * 3600
    assert personas["worker"].name.split()[0] not in json.dumps(message.payload)
    [row] = deliveries(engine, channel="push")
    assert row.status == "sent" and row.attempts == 1 and row.provider_response == "push service answered 201"
    with unit_of_work(engine) as session:  # the device is known to work
        [device] = session.exec(select(PushSubscription)).all()
        assert device.last_success_at is not None


def test_gone_subscription_is_deleted(engine, settings, receiver, personas):
    subscribe(engine, personas["worker"], receiver.subscription())
    receiver.answer("phone", 410)
    enqueue(engine, personas["worker"])
    make_job(settings)(engine, utcnow())
    [row] = deliveries(engine, channel="push")
    assert row.status == "failed" and "410" in row.last_error
    with unit_of_work(engine) as session:
        assert session.exec(select(PushSubscription)).all() == []


def test_server_error_is_retried_then_succeeds(engine, settings, receiver, personas):
    subscribe(engine, personas["worker"], receiver.subscription())
    receiver.answer("phone", 503)
    enqueue(engine, personas["worker"])
    job = make_job(settings)
    wake = job(engine, utcnow())
    [row] = deliveries(engine, channel="push")
    assert row.status == "pending" and row.attempts == 1 and "503" in row.last_error
    # The loop sleeps until exactly the next retry (this one, or the email's or text's to a closed port).
    assert wake == min(r.next_attempt_at for r in deliveries(engine, status="pending")) <= row.next_attempt_at
    with unit_of_work(engine) as session:  # fast-forward the backoff
        session.get(Delivery, row.id).next_attempt_at = utcnow()
    job(engine, utcnow())
    [row] = deliveries(engine, channel="push")
    assert row.status == "sent" and row.attempts == 2
    assert len(receiver.attempts) == 2 and len(receiver.messages) == 1


def test_hanging_push_service_times_out_and_is_retried(engine, settings, receiver, personas):
    subscribe(engine, personas["worker"], receiver.subscription())
    receiver.answer("phone", "hang")
    enqueue(engine, personas["worker"])
    job = make_job(settings, timeout=0.5)
    job(engine, utcnow())
    [row] = deliveries(engine, channel="push")
    assert row.status == "pending" and "did not answer in time" in row.last_error
    receiver.release.set()
    with unit_of_work(engine) as session:
        session.get(Delivery, row.id).next_attempt_at = utcnow()
    job(engine, utcnow())
    assert deliveries(engine, channel="push")[0].status == "sent"


def test_retries_stop_at_the_limit_and_the_failure_is_shown_to_supervisors(engine, settings, receiver, personas,
                                                                            supervisor_client):
    subscribe(engine, personas["worker"], receiver.subscription())
    test_message = Message(kind="test", event_ref="test:1", title="Test notification", body="Alerts will reach this phone.",
                           url="/settings/notifications")
    receiver.answer("phone", 500, 500, 500)
    enqueue(engine, personas["worker"], test_message)
    job = make_job(settings)
    for _ in range(3):
        with unit_of_work(engine) as session:
            for row in session.exec(select(Delivery)).all():
                row.next_attempt_at = utcnow()
        job(engine, utcnow())
    [row] = deliveries(engine)
    assert row.status == "failed" and row.attempts == 3
    page = supervisor_client.get("/notifications/log").get_data(as_text=True)
    assert "1 message could not be delivered" in page and "Failed" in page


# ---- email and SMS ----

def test_safety_alert_goes_by_every_channel_including_email_and_sms(engine, settings, receiver, personas):
    subscribe(engine, personas["worker"], receiver.subscription())
    with smtp_server() as mailbox, SmsGateway() as gateway:
        enqueue(engine, personas["worker"])
        make_job(settings, smtp_url=mailbox.url, sms_gateway_url=gateway.url + "/send",
                 sms_gateway_token="gateway-secret", base_url="https://fieldline.example.org")(engine, utcnow())
        [(recipients, email)] = mailbox.messages
        assert recipients == [personas["worker"].email]
        assert email["Subject"] == "Fieldline: Safety alert"
        text = email.get_body(("plain",)).get_content()
        html = email.get_body(("html",)).get_content()
        assert "https://fieldline.example.org/alerts/1" in text and 'href="https://fieldline.example.org/alerts/1"' in html
        [sms] = gateway.requests
        assert sms["authorization"] == "Bearer gateway-secret"
        assert sms["json"]["to"] == "07700900111" and sms["json"]["priority"] == "high"
        assert sms["json"]["channel"] == "sms" and "Safety alert" in sms["json"]["body"]
    statuses = {row.channel: (row.status, row.provider_response) for row in deliveries(engine)}
    assert statuses["email"] == ("sent", "accepted by the mail server")
    assert statuses["sms"][0] == "sent" and '"status": "queued"' in statuses["sms"][1]
    assert statuses["push"][0] == "sent"


def test_sms_gateway_errors_are_retried_and_client_errors_fail(engine, settings, personas):
    message = Message(kind="reminder", event_ref="appt:1", title="Appointment reminder", body="Open Fieldline",
                      url="/today")
    with unit_of_work(engine) as session:
        delivery_service.set_preferences(session, session.get(User, personas["worker"].id), {"reminder": {"sms"}})
    with SmsGateway() as gateway:
        gateway.statuses = [500, 400]
        enqueue(engine, personas["worker"], message)
        job = make_job(settings, sms_gateway_url=gateway.url)
        job(engine, utcnow())
        [row] = deliveries(engine)
        assert row.status == "pending" and row.last_error.startswith("500")
        with unit_of_work(engine) as session:
            session.get(Delivery, row.id).next_attempt_at = utcnow()
        job(engine, utcnow())
    [row] = deliveries(engine)
    assert row.status == "failed" and row.last_error.startswith("400")


def test_preferences_choose_channels_except_for_safety(worker_client, engine, personas, receiver):
    subscribe(engine, personas["worker"], receiver.subscription())
    response = worker_client.post_form("/settings/notifications", {"reminder_email": "y", "referral_push": "y"})
    assert response.status_code == 303
    reminder = Message(kind="reminder", event_ref="appt:9", title="Appointment reminder", body="b", url="/")
    enqueue(engine, personas["worker"], reminder)
    assert [row.channel for row in deliveries(engine, event_ref="appt:9")] == ["email"]
    enqueue(engine, personas["worker"])
    assert sorted(row.channel for row in deliveries(engine, event_ref=SAFETY.event_ref)) == ["email", "push", "sms"]


def test_enqueueing_the_same_event_twice_is_harmless(engine, personas, receiver):
    subscribe(engine, personas["worker"], receiver.subscription())
    first = enqueue(engine, personas["worker"])
    second = enqueue(engine, personas["worker"])
    assert first == 3 and second == 0
    assert len(deliveries(engine)) == 3


# ---- many at once ----

def test_two_workers_over_1000_due_deliveries_send_each_exactly_once(app, engine, settings, receiver, personas):
    from app.db import make_engine

    subscribe(engine, personas["worker"], receiver.subscription())
    now = utcnow()
    with unit_of_work(engine) as session:
        user = session.get(User, personas["worker"].id)
        for n in range(1000):
            delivery_service.enqueue(session, Message(kind="test", event_ref=f"bulk:{n}", title="t", body="b", url="/"),
                                     user, now=now)
    engines = [make_engine(settings.database_url) for _ in range(2)]
    jobs = [make_job(settings, owner=f"worker-{i}", threads=4) for i in range(2)]
    def loop(job, own):  # what the worker loop does: tick again while anything is due
        while delivery_service.claimable(own, utcnow()):
            job(own, utcnow())

    threads = [threading.Thread(target=loop, args=(job, own)) for job, own in zip(jobs, engines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for own in engines:
        own.dispose()
    refs = [message.payload["ref"] for message in receiver.messages]
    assert len(refs) == 1000 and len(set(refs)) == 1000
    rows = deliveries(engine)
    assert all(row.status == "sent" and row.attempts == 1 for row in rows)
    owners = {row.lease_owner for row in rows}
    assert owners == {None}


# ---- pages ----

def test_settings_page_explains_blocked_notifications_and_iphones(worker_client):
    html = worker_client.get("/settings/notifications").get_data(as_text=True)
    assert "This phone gets alerts" in html
    assert "Notifications are blocked" in html and "Add to Home Screen" in html


def test_test_notification_is_queued_with_an_acknowledge_link(worker_client, engine, personas, receiver):
    subscribe(engine, personas["worker"], receiver.subscription())
    response = worker_client.post_form("/push/test", {}, page="/settings/notifications")
    assert response.status_code == 303
    [row] = deliveries(engine)
    assert row.kind == "test" and row.ack_url == f"/notifications/{row.id}/acknowledge"
    ack = worker_client.post(row.ack_url, headers={"X-CSRFToken": worker_client.csrf_token(), "Accept": "application/json"})
    assert ack.json == {"acknowledged": True}
    assert deliveries(engine)[0].acknowledged_at is not None


def test_only_the_recipient_can_acknowledge_and_logs_stay_in_the_team(app, engine, personas, receiver,
                                                                         other_worker_client, worker_client):
    from tests.conftest import _signed_in

    subscribe(engine, personas["worker"], receiver.subscription())
    enqueue(engine, personas["worker"])
    row = deliveries(engine)[0]
    url = f"/notifications/{row.id}/acknowledge"
    assert other_worker_client.post(url, headers={"X-CSRFToken": other_worker_client.csrf_token()}).status_code == 404
    assert deliveries(engine)[0].acknowledged_at is None
    assert worker_client.get("/notifications/log").status_code == 404  # workers don't see the log
    own_team = _signed_in(app, personas["supervisor"]).get("/notifications/log").get_data(as_text=True)
    other_team = _signed_in(app, personas["other_supervisor"]).get("/notifications/log").get_data(as_text=True)
    assert personas["worker"].name in own_team
    assert personas["worker"].name not in other_team and "Nothing has been sent yet." in other_team


def test_a_claim_takes_exactly_its_limit(engine, personas, receiver):
    """PostgreSQL may re-run an IN (... LIMIT ... SKIP LOCKED) subquery and claim far more; the
    materialised CTE keeps each claim to its batch so other workers get their share."""
    subscribe(engine, personas["worker"], receiver.subscription())
    now = utcnow()
    with unit_of_work(engine) as session:
        user = session.get(User, personas["worker"].id)
        for n in range(60):
            delivery_service.enqueue(session, Message(kind="test", event_ref=f"claim:{n}", title="t", body="b", url="/"),
                                     user, now=now)
    from datetime import timedelta

    first = delivery_service.claim(engine, now=utcnow(), owner="a", lease=timedelta(seconds=30), limit=25)
    second = delivery_service.claim(engine, now=utcnow(), owner="b", lease=timedelta(seconds=30), limit=25)
    assert len(first) == 25 and len(second) == 25 and not set(first) & set(second)


# ---- what leaves the server ----

def test_no_message_that_leaves_the_server_names_anyone(engine, settings, receiver, personas):
    """Every safety message of an alert's life (missed check-in, escalation, acknowledgement, late
    check-in, Crisis, duress) and the visit reminder, through real push, SMTP and SMS peers: each
    says what happened, never who."""
    from datetime import timedelta

    from app.models import Alert, Team, Visit
    from app.services import escalation, safety
    from tests.test_safety_engine import do, start

    for key in ("worker", "worker2", "supervisor"):
        subscribe(engine, personas[key], receiver.subscription(key))
    with unit_of_work(engine) as session:
        safety.set_pins(session.get(User, personas["worker2"].id), pin="1234", duress_pin="9876")
    with smtp_server() as mailbox, SmsGateway() as gateway:
        job = make_job(settings, smtp_url=mailbox.url, sms_gateway_url=gateway.url)

        def send():
            job(engine, utcnow())

        visit_id = start(engine, personas["worker"], minutes=30, ago=timedelta(hours=2))  # every moment is past
        with unit_of_work(engine) as session:
            visit = session.get(Visit, visit_id)
            remind_at, overdue_at = visit.remind_at, visit.overdue_at
        escalation.remind(engine, remind_at)
        escalation.detect(engine, overdue_at)
        send()
        with unit_of_work(engine) as session:
            alert = session.exec(select(Alert)).one()
            escalate_at = alert.next_escalation_at
        escalation.escalate_due(engine, escalate_at)
        send()
        with unit_of_work(engine) as session:
            safety.acknowledge(session, session.get(Alert, alert.id), session.get(User, personas["supervisor"].id),
                               now=escalate_at)
        send()
        do(engine, personas["worker"], safety.check_in, visit_id, now=escalate_at + timedelta(seconds=1), pin=None)
        with unit_of_work(engine) as session:
            worker2 = session.get(User, personas["worker2"].id)
            crisis_id = safety.crisis_alarm(session, worker2, session.get(Team, worker2.team_id), now=utcnow()).id
        send()
        with unit_of_work(engine) as session:
            safety.acknowledge(session, session.get(Alert, crisis_id), session.get(User, personas["supervisor"].id),
                               now=utcnow())
        duress_visit = start(engine, personas["worker2"], minutes=30)
        do(engine, personas["worker2"], safety.check_in, duress_visit, pin="9876")
        send()
        emails = [(m["Subject"], m.get_body(("plain",)).get_content(), m.get_body(("html",)).get_content())
                  for _, m in mailbox.messages]
        texts = [request["json"]["body"] for request in gateway.requests]
    pushes = [json.dumps(m.payload, ensure_ascii=False) for m in receiver.messages]
    titles = {m.payload["title"] for m in receiver.messages}
    assert {"Safety alert — someone is responding", "Help is on the way", "Check in due in 5 min",
            "CRISIS alarm — open Fieldline now", "Silent alarm — open Fieldline now"} <= titles
    assert len(pushes) >= 8 and len(emails) >= 8 and len(texts) >= 8
    names = [part for key in ("worker", "worker2", "supervisor") for part in personas[key].name.split()]
    for sent in pushes + texts + [part for email in emails for part in email]:
        assert not any(name in sent for name in names), sent


def test_notification_email_escapes_the_message_in_its_html_part(engine, settings, personas):
    message = Message(kind="referral", event_ref="referral:1:approval", title="A <b>bold</b> & new referral",
                      body='<img src=x onerror="alert(1)"> & <a href="https://evil.example">here</a>', url="/x?a=1&b=2")
    with unit_of_work(engine) as session:
        delivery_service.set_preferences(session, session.get(User, personas["worker"].id), {"referral": {"email"}})
    enqueue(engine, personas["worker"], message)
    with smtp_server() as mailbox:
        make_job(settings, smtp_url=mailbox.url, base_url="https://fieldline.example.org")(engine, utcnow())
        [(_, email)] = mailbox.messages
    html = email.get_body(("html",)).get_content()
    assert "<img" not in html and "evil.example\">" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &lt;a href=&quot;https://evil.example&quot;&gt;" in html
    assert 'href="https://fieldline.example.org/x?a=1&amp;b=2"' in html
    assert email.get_body(("plain",)).get_content().startswith('<img src=x onerror="alert(1)">')  # text stays text


# ---- channels that are not set up ----

@pytest.fixture
def bare_app(database_url, tmp_path, personas):
    """The same database, served by a Fieldline with neither SMTP nor an SMS gateway set up."""
    from app import create_app
    from tests.helpers import FieldlineClient

    application = create_app({"DATABASE_URL": database_url, "FIELDLINE_INSTANCE": tmp_path / "instance",
                              "SMTP_URL": "", "SMS_GATEWAY_URL": "", "TESTING": True})
    application.test_client_class = FieldlineClient
    yield application
    application.extensions["fieldline.engine"].dispose()


def test_a_channel_that_is_not_set_up_gets_no_rows_is_not_tried_and_is_not_a_failure(bare_app, engine, personas,
                                                                                      receiver):
    from app.services import escalation
    from tests.conftest import _signed_in
    from tests.test_safety_engine import start

    bare = bare_app.extensions["fieldline.engine"]
    subscribe(bare, personas["supervisor"], receiver.subscription("supervisor"))
    from datetime import timedelta

    from app.models import Visit

    visit_id = start(bare, personas["worker"], minutes=30, ago=timedelta(hours=1))
    with unit_of_work(bare) as session:
        overdue_at = session.get(Visit, visit_id).overdue_at
    assert escalation.detect(bare, overdue_at) == 1  # a missed check-in: email and SMS would go to both
    assert {row.channel for row in deliveries(bare)} == {"push"}
    # A row queued for email elsewhere (a process with SMTP set up) is skipped here, not tried or failed.
    enqueue(engine, personas["supervisor"], Message(kind="referral", event_ref="referral:5:approval", title="t",
                                                    body="b", url="/"))
    job = make_job(bare_app.extensions["fieldline.settings"])
    job(bare, utcnow())
    # Left a while for a worker that has email set up, then skipped.
    assert {(row.channel, row.status) for row in deliveries(bare)} == {("push", "sent"), ("email", "pending")}
    job(bare, utcnow() + timedelta(minutes=11))
    statuses = {(row.channel, row.status) for row in deliveries(bare)}
    assert statuses == {("push", "sent"), ("email", "skipped")}
    assert [m.path for m in receiver.messages] == ["/push/supervisor"] * 2 and receiver.errors == []

    supervisor = _signed_in(bare_app, personas["supervisor"])
    log = supervisor.get("/notifications/log").get_data(as_text=True)
    assert "could not be delivered" not in log
    page = supervisor.get("/settings/notifications").get_data(as_text=True)
    assert "every way we can reach you: push." in page
    assert "Not set up on this Fieldline: emails and text messages." in page
    channels = supervisor.get("/healthz").json["channels"]
    assert channels["email"] == {"configured": False, "status": "not configured"}
    assert channels["sms"] == {"configured": False, "status": "not configured"}
    assert channels["push"]["configured"] is True


def test_the_settings_page_lists_every_way_when_all_are_set_up(worker_client):
    page = worker_client.get("/settings/notifications").get_data(as_text=True)
    assert "every way we can reach you: push, email and text message." in page and "Not set up" not in page


def test_choices_for_a_channel_that_is_not_set_up_are_kept_and_shown(bare_app, personas):
    from tests.conftest import _signed_in

    with unit_of_work(bare_app.extensions["fieldline.engine"]) as session:
        delivery_service.set_preferences(session, session.get(User, personas["worker"].id),
                                         {"reminder": {"push", "email"}})
    page = _signed_in(bare_app, personas["worker"]).get("/settings/notifications").get_data(as_text=True)
    [tag] = re.findall(r'<input[^>]*name="reminder_email"[^>]*>', page)
    assert " checked" in tag  # so saving the form again keeps the choice


def test_a_safety_push_goes_before_routine_ones_already_waiting_in_a_full_lane(engine, settings, receiver, personas):
    """One sending thread, room for three: three reminders fill the lane (the first hangs at the push
    service), then an alarm falls due. It is claimed although the lane is full, and sent next."""
    subscribe(engine, personas["worker"], receiver.subscription("phone"))
    receiver.answer("phone", "hang")
    for n in range(3):
        enqueue(engine, personas["worker"], Message(kind="reminder", event_ref=f"appt:{n}", title="Reminder",
                                                    body="b", url="/"))
    config = channel_config(settings)
    job = DeliveryJob(config, owner="test-worker", lease_seconds=30, threads=1, in_flight_per_thread=3)
    try:
        job(engine, utcnow())
        assert receiver.hung.wait(10)
        enqueue(engine, personas["worker"], SAFETY)
        job(engine, utcnow())  # the lane has no room, yet the alarm is claimed
        assert job.lanes["push"].in_flight == 4
        receiver.release.set()
        assert job.drain(30)
    finally:
        job.close()
    kinds = [message.payload["type"] for message in receiver.messages]
    assert len(kinds) == 4 and kinds[1] == "safety", kinds


def test_a_test_notification_with_no_phone_says_nothing_was_sent_as_a_warning(worker_client):
    page = worker_client.post_form("/push/test", {}, page="/notifications/settings", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert 'class="notice notice--warn" role="status"><p>Nothing was sent' in html
    assert "notice--ok" not in html


def test_a_nul_character_in_the_json_or_the_user_agent_is_dropped_never_a_server_error(worker_client, receiver,
                                                                                       engine):
    """PostgreSQL refuses NUL in text: JSON bodies and the User-Agent kept with a device are read
    without it, as forms are (app/request_class.py)."""
    subscription = receiver.subscription()
    sent = {**subscription, "endpoint": subscription["endpoint"] + "\x00"}
    headers = {"X-CSRFToken": worker_client.csrf_token(), "User-Agent": "Phone\x00 Browser"}
    assert worker_client.post("/push/subscriptions", json=sent, headers=headers).status_code == 201
    with unit_of_work(engine) as session:
        [row] = session.exec(select(PushSubscription)).all()
    assert (row.endpoint, row.user_agent) == (subscription["endpoint"], "Phone Browser")
    assert worker_client.post("/push/subscriptions/remove", json=sent, headers=headers).status_code == 204
    with unit_of_work(engine) as session:
        assert session.exec(select(PushSubscription)).all() == []
