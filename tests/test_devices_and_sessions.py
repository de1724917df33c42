"""Devices and sessions: which push endpoints the server sends to, who owns one, and what signing
out, deactivation and an admin's "Sign out everywhere" do to a phone's alerts and offline copy."""
import dataclasses
import socket
import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, Delivery, LoginSession, PushSubscription, User
from app.models.types import utcnow
from app.services import channels
from app.services.push_subscriptions import EndpointRule, check_endpoint
from app.worker import channel_config
from tests.peers import PushReceiver
from tests.test_notifications import SAFETY, enqueue, make_job, receiver, settings, subscribe  # noqa: F401

STRICT = EndpointRule()


# ---- the endpoint rule ----

@pytest.mark.parametrize("url", [
    "https://10.1.2.3/push/x",                      # private IPv4
    "https://172.16.0.9/push/x",
    "https://192.168.1.20:8443/push/x",
    "https://100.64.0.1/push/x",                    # carrier-grade NAT
    "https://169.254.169.254/latest/meta-data/",    # link-local: the cloud metadata service
    "https://127.0.0.1:5000/push/x",                # loopback
    "https://0.0.0.0/push/x",
    "https://[::1]/push/x",                         # IPv6 loopback
    "https://[fe80::1]/push/x",                     # IPv6 link-local
    "https://[fd12:3456::1]/push/x",                # IPv6 unique local (private)
    "https://[::ffff:10.0.0.1]/push/x",             # IPv4-mapped private
    "https://[64:ff9b::a00:1]/push/x",              # NAT64 of 10.0.0.1
    "https://localhost/push/x",
    "https://127.1/push/x",                         # a name to URL parsers, 127.0.0.1 to the resolver
    "https://2130706433/push/x",                    # 127.0.0.1 written as one number
])
def test_endpoints_on_private_addresses_are_refused(url):
    assert check_endpoint(url, STRICT) == "The endpoint must be on a public address."


def test_a_dns_name_resolving_to_this_machine_is_refused():
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)}
    except socket.gaierror:
        pytest.skip(f"this machine's name {name!r} does not resolve here")
    if not all(address.startswith("127.") or address == "::1" for address in addresses):
        pytest.skip(f"{name!r} resolves to {addresses}, not to loopback, on this machine")
    assert check_endpoint(f"https://{name}/push/x", STRICT) == "The endpoint must be on a public address."


@pytest.mark.parametrize("url", ["http://fcm.googleapis.com/fcm/send/x", "ftp://8.8.8.8/x", "https://user:pw@8.8.8.8/x",
                                 "https:///x", "x" * 2001, None])
def test_only_plain_https_urls_are_accepted(url):
    assert check_endpoint(url, STRICT).startswith("The endpoint must be an https URL")


def test_public_https_endpoints_pass_and_the_allow_list_narrows_them():
    assert check_endpoint("https://8.8.8.8/push/x", STRICT) is None
    apple = EndpointRule(hosts=("push.apple.com", "fcm.googleapis.com"))
    assert check_endpoint("https://web.push.apple.com/QX", apple, resolve=False) is None
    assert check_endpoint("https://fcm.googleapis.com/fcm/send/x", apple, resolve=False) is None
    for url in ("https://8.8.8.8/push/x", "https://evilpush.apple.com.example/x", "https://notpush.apple.com/x"):
        assert "not one this server sends to" in check_endpoint(url, apple, resolve=False)


def test_the_test_only_setting_allows_a_local_receiver_and_nothing_else():
    local = EndpointRule(allow_private=True)
    assert check_endpoint("http://127.0.0.1:5000/push/x", local) is None
    assert check_endpoint("http://push.example.com/x", local) == "The endpoint must be an https URL."
    assert check_endpoint("http://127.0.0.1:5000/push/x", STRICT) == "The endpoint must be an https URL."


def test_the_test_only_setting_is_refused_in_production(tmp_path):
    from app.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="FIELDLINE_PUSH_ALLOW_PRIVATE"):
        Settings.from_env({"FIELDLINE_ENV": "production", "FIELDLINE_PUSH_ALLOW_PRIVATE": "1",
                           "SECRET_KEY": "x" * 40}, tmp_path)
    hosts = Settings.from_env({"FIELDLINE_PUSH_HOSTS": "fcm.googleapis.com, .push.apple.com"}, tmp_path).push_hosts
    assert hosts == ("fcm.googleapis.com", ".push.apple.com")


@pytest.fixture
def strict(app):
    """The app with the push-endpoint rule as deployed (the suite allows its local receiver)."""
    settings = app.extensions["fieldline.settings"]
    app.extensions["fieldline.settings"] = dataclasses.replace(settings, push_allow_private=False)
    yield app
    app.extensions["fieldline.settings"] = settings


def _post_subscription(client, subscription):
    return client.post("/push/subscriptions", json=subscription, headers={"X-CSRFToken": client.csrf_token()})


@pytest.mark.parametrize("endpoint", ["https://10.0.0.5/push/x", "https://169.254.169.254/", "https://127.1:8443/x",
                                      "http://127.0.0.1:8080/push/x"])
def test_registering_an_internal_endpoint_is_refused_with_a_reason(strict, worker_client, receiver, engine,
                                                                   endpoint):
    subscription = {**receiver.subscription(), "endpoint": endpoint}
    response = _post_subscription(worker_client, subscription)
    assert response.status_code == 422
    assert "endpoint" in response.json["errors"]
    with unit_of_work(engine) as session:
        assert session.exec(select(PushSubscription)).all() == []


# ---- at send time ----

class RawListener:
    """A TCP port on 127.0.0.1 that counts what arrives (a TLS ClientHello would be the first bytes)."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            connection.settimeout(2)
            try:
                while chunk := connection.recv(4096):
                    self.received += len(chunk)
            except OSError:
                pass
            connection.close()

    def close(self):
        self.socket.close()


def test_a_name_that_resolves_to_a_private_address_at_send_time_is_not_sent_to(settings, receiver):
    """DNS rebinding: the endpoint passed when registered; by the time of sending its name leads to
    this machine. The connection refuses the address it reached, before a byte is sent."""
    listener = RawListener()
    try:
        config = dataclasses.replace(channel_config(settings), push_rule=STRICT, push_timeout=3)
        device = receiver.subscription()
        result = channels.send_push(config, endpoint=f"https://127.1:{listener.port}/push/phone",
                                    p256dh=device["keys"]["p256dh"], auth=device["keys"]["auth"],
                                    payload={"type": "test"}, ttl=60, urgent=True, topic=None)
    finally:
        listener.close()
    assert result.outcome == channels.FAILED, result
    assert result.detail == "endpoint refused: the endpoint's host resolves to a private address"
    assert listener.received == 0


def test_the_delivery_job_refuses_a_stored_internal_endpoint(app, engine, personas, settings):
    with unit_of_work(engine) as session:
        session.add(PushSubscription(user_id=personas["supervisor"].id, endpoint="https://169.254.169.254/push/x",
                                     p256dh="B" * 87, auth="A" * 22))
    enqueue(engine, personas["supervisor"])
    make_job(settings, push_rule=STRICT)(engine, utcnow())
    with unit_of_work(engine) as session:
        row = session.exec(select(Delivery).where(Delivery.channel == "push")).one()
    assert (row.status, row.last_error) == ("failed", "endpoint refused: The endpoint must be on a public address.")


# ---- ownership ----

def test_an_endpoint_stays_with_the_user_who_registered_it(app, worker_client, receiver, engine,
                                                           personas):
    device = receiver.subscription()
    assert _post_subscription(worker_client, device).status_code == 201
    thief = app.test_client()
    thief.login(personas["worker2"].email)
    refused = _post_subscription(thief, device)
    assert refused.status_code == 409
    assert "already registered for another account" in refused.json["errors"]["endpoint"]
    with unit_of_work(engine) as session:
        assert [row.user_id for row in session.exec(select(PushSubscription)).all()] == [personas["worker"].id]
    # Once its owner removes it, someone else may register it.
    worker_client.post("/push/subscriptions/remove", json={"endpoint": device["endpoint"]},
                       headers={"X-CSRFToken": worker_client.csrf_token()})
    assert _post_subscription(thief, device).status_code == 201


# ---- signing out and ending sessions ----

def _devices(engine) -> list[tuple[int, str]]:
    with unit_of_work(engine) as session:
        return sorted((row.user_id, row.endpoint.rsplit("/", 1)[-1]) for row in session.exec(select(PushSubscription)))


def test_signing_out_unregisters_that_phone_only(app, engine, personas, receiver, settings):
    phone, tablet = app.test_client(), app.test_client()
    for client, name in ((phone, "phone"), (tablet, "tablet")):
        client.login(personas["supervisor"].email)
        assert _post_subscription(client, receiver.subscription(name)).status_code == 201
    phone.post_form("/logout", {}, page="/")
    assert _devices(engine) == [(personas["supervisor"].id, "tablet")]
    enqueue(engine, personas["supervisor"])
    make_job(settings)(engine, utcnow())
    assert [message.path for message in receiver.messages] == ["/push/tablet"]


def _two_devices_signed_in(app, persona, receiver):
    clients = []
    for name in ("phone", "tablet"):
        client = app.test_client()
        client.login(persona.email)
        assert _post_subscription(client, receiver.subscription(name)).status_code == 201
        clients.append(client)
    return clients


def _assert_wiped(response):
    assert response.headers.get("Fieldline-Wipe") == "1"
    assert response.headers.get("Clear-Site-Data") == '"cache", "storage"'


def test_sign_out_everywhere_ends_every_session_stops_alerts_and_wipes_at_next_contact(
        app, admin_client, engine, personas, receiver):
    worker = personas["worker"]
    phone, tablet = _two_devices_signed_in(app, worker, receiver)
    page = admin_client.get(f"/admin/users/{worker.id}").get_data(as_text=True)
    assert "2 open sessions" in page and "Sign out everywhere" in page
    response = admin_client.post_form(f"/admin/users/{worker.id}/sessions/end", {}, page=f"/admin/users/{worker.id}")
    assert response.status_code == 303
    assert _devices(engine) == []
    # Any contact: a page, an htmx fragment, the outbox's token request. Each says "wipe", every time.
    first = phone.get("/")
    assert first.status_code == 303 and first.headers["Location"] == "/login"
    _assert_wiped(first)
    login_page = phone.get("/login")
    _assert_wiped(login_page)
    assert "data-wipe-phone" in login_page.get_data(as_text=True)
    _assert_wiped(tablet.get("/session/csrf-token", headers={"Accept": "application/json"}))
    _assert_wiped(tablet.get("/today", headers={"HX-Request": "true"}))
    # Signing in again on that phone is an ordinary new session: no more wiping.
    assert phone.login(worker.email).status_code == 303
    again = phone.get("/")
    assert again.status_code == 200 and "Fieldline-Wipe" not in again.headers
    with unit_of_work(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.sessions_end")).one()
    # The person is told by email; the audit says how the send went (the tests' mail server is a closed port).
    assert (event.actor_id, event.record_id, event.detail) == (personas["admin"].id, str(worker.id),
                                                               "sessions=2,email=retry")


def test_deactivating_an_account_unregisters_its_phones_and_wipes_them(app, admin_client, engine, personas,
                                                                       receiver):
    worker = personas["worker"]
    phone, _ = _two_devices_signed_in(app, worker, receiver)
    response = admin_client.post_form(f"/admin/users/{worker.id}", {
        "name": worker.name, "email": worker.email, "role": "worker", "team_id": str(worker.team_id),
        "phone": "07700900111",  # active left unticked
    })
    assert response.status_code == 303
    assert _devices(engine) == []
    _assert_wiped(phone.get("/"))


def test_a_phone_whose_session_had_already_idled_out_is_wiped_too(app, admin_client, engine, personas):
    worker = personas["worker"]
    phone = app.test_client()
    phone.login(worker.email)
    with unit_of_work(engine) as session:
        for login in session.exec(select(LoginSession).where(LoginSession.user_id == worker.id)).all():
            login.last_seen_at = utcnow() - timedelta(hours=9)
    idle = phone.get("/")
    assert idle.status_code == 303 and "Fieldline-Wipe" not in idle.headers  # idle: the outbox waits for sign-in
    admin_client.post_form(f"/admin/users/{worker.id}/sessions/end", {}, page=f"/admin/users/{worker.id}")
    _assert_wiped(phone.get("/"))


def test_signing_out_or_a_password_reset_does_not_wipe_or_drop_other_devices(app, admin_client, engine, personas,
                                                                            receiver):
    worker = personas["worker"]
    from app.services import account_links

    phone, tablet = _two_devices_signed_in(app, worker, receiver)
    with unit_of_work(engine) as session:
        token = account_links.issue(session, session.get(User, worker.id), "reset", now=utcnow())
    laptop = app.test_client()
    assert laptop.get(f"/password/link/{token}").status_code == 303
    assert laptop.post_form("/password/new", {"password": "a brand new passphrase"}).status_code == 303
    signed_out = phone.get("/")
    assert signed_out.status_code == 303 and "Fieldline-Wipe" not in signed_out.headers
    assert len(_devices(engine)) == 2  # they forgot a password; their phones keep getting alerts


def test_only_admins_end_sessions_and_not_their_own(app, admin_client, supervisor_client, personas):
    worker, admin = personas["worker"], personas["admin"]
    assert supervisor_client.post_form(f"/admin/users/{worker.id}/sessions/end", {}, page="/").status_code == 404
    assert "Sign out everywhere" not in admin_client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    own = admin_client.post_form(f"/admin/users/{admin.id}/sessions/end", {}, page=f"/admin/users/{admin.id}")
    assert own.status_code == 404
    assert admin_client.get("/admin/users").status_code == 200  # still signed in


def test_a_user_deactivated_directly_in_the_database_is_wiped(engine, worker_client, personas):
    with unit_of_work(engine) as session:
        session.get(User, personas["worker"].id).active = False
    _assert_wiped(worker_client.get("/"))
