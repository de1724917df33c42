"""Push reaches the real service worker (through the DevTools protocol, as a push service would),
the notification shows, and its Acknowledge action reaches the server."""
import json
import time

from sqlmodel import select

from app.db import unit_of_work
from app.models import Delivery, User
from app.models.types import utcnow
from app.services import push_subscriptions, vapid
from tests.e2e.conftest import PHONE, LiveServer, assert_accessible, sign_in
from tests.peers import LOCAL_PUSH, PushReceiver
from tests.test_notifications import bare_app, make_job  # noqa: F401 (fixture)


def _registration_id(cdp, page):
    found = {}
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: found.update({r["scopeURL"]: r["registrationId"] for r in event["registrations"]}))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert found, "no service worker registration reported"
    return next(iter(found.values()))


def test_push_shows_a_notification_and_acknowledge_reaches_the_server(browser, live_server, app, engine, personas):
    settings = app.extensions["fieldline.settings"]
    context = browser.new_context(**PHONE, permissions=["notifications"])
    try:
        page = context.new_page()
        sign_in(page, live_server, personas["worker"])
        page.goto(live_server.url + "/settings/notifications")
        page.evaluate("navigator.serviceWorker.ready")
        assert_accessible(page)

        key = vapid.application_server_key(vapid.load_or_create(None, settings.instance_path))
        with PushReceiver(application_server_key=key) as receiver:
            with unit_of_work(engine) as session:
                push_subscriptions.register(session, session.get(User, personas["worker"].id),
                                            receiver.subscription(), rule=LOCAL_PUSH, user_agent=None, now=utcnow())
            page.get_by_role("button", name="Send a test notification").click()
            page.wait_for_selector("text=Test notification sent")
            make_job(settings)(engine, utcnow())
            [message] = receiver.messages  # what the push service received and decrypted

        cdp = context.new_cdp_session(page)
        cdp.send("ServiceWorker.deliverPushMessage", {
            "origin": live_server.url, "registrationId": _registration_id(cdp, page),
            "data": json.dumps(message.payload),
        })
        shown = []
        deadline = time.monotonic() + 10
        while not shown and time.monotonic() < deadline:
            shown = page.evaluate("""async () => (await (await navigator.serviceWorker.ready).getNotifications())
                .map(n => ({title: n.title, body: n.body, tag: n.tag, actions: n.actions.map(a => a.action)}))""")
            page.wait_for_timeout(100)
        assert shown == [{"title": "Test notification", "body": "Alerts will reach this phone.", "tag": "test",
                          "actions": ["acknowledge", "open"]}]

        worker = context.service_workers[0]
        worker.evaluate("""async () => {
            const [notification] = await self.registration.getNotifications();
            self.dispatchEvent(new NotificationEvent("notificationclick", {notification, action: "acknowledge"}));
        }""")
        acknowledged = None
        deadline = time.monotonic() + 10
        while acknowledged is None and time.monotonic() < deadline:
            with unit_of_work(engine) as session:
                acknowledged = session.exec(select(Delivery.acknowledged_at)).first()
            time.sleep(0.1)
        assert acknowledged is not None, "the Acknowledge action never reached the server"
        remaining = page.evaluate("async () => (await (await navigator.serviceWorker.ready).getNotifications()).length")
        assert remaining == 0  # the notification closed itself
    finally:
        context.close()


def test_the_notification_settings_say_which_channels_are_not_set_up(browser, bare_app, personas):  # noqa: F811
    for width, height in ((360, 740), (390, 844)):
        context = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": height}})
        try:
            with LiveServer(bare_app) as server:
                page = context.new_page()
                sign_in(page, server, personas["worker"])
                page.goto(server.url + "/settings/notifications")
                note = page.locator("[data-not-set-up]")
                assert note.is_visible() and "emails and text messages" in note.inner_text()
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                assert_accessible(page)
        finally:
            context.close()
