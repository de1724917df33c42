"""The outbox in a real Chromium: no signal, flapping signal, refusals, expired sessions, sign-out."""
import re
import time
from io import BytesIO

from PIL import Image
from playwright.sync_api import expect
from sqlmodel import func, select

from app.db import unit_of_work
from app.models import Contact, LoginSession, Photo, SafetyEvent
from app.models.types import utcnow
from app.services import safety
from tests.e2e.conftest import CHROMIUM_ARGS, PHONE, _chromium_path, assert_accessible, sign_in
from tests.e2e.test_caseload import _person


def jpeg() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def count(engine, model) -> int:
    with unit_of_work(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def wait_until(page, check, timeout=10.0, message="condition"):
    """Poll with Playwright's own wait, so route handlers and events keep being dispatched."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {message}")


def ready_for_the_door(page, server, path="/contacts/new"):
    """The service worker controls the page and has kept the pages a worker needs offline."""
    page.goto(server.url + path)
    page.evaluate("navigator.serviceWorker.ready")
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
    wait_until(page, lambda: page.evaluate("navigator.serviceWorker.controller !== null"), message="controller")
    page.evaluate("""async () => (await navigator.serviceWorker.ready).active.postMessage(
        {type: "refresh-pages", extra: []})""")
    wait_until(page, lambda: page.evaluate("""async () => {
        const cache = await caches.open("fieldline-pages");
        return (await cache.keys()).length >= 5;
    }"""), message="pages kept offline")


def outbox(page) -> list[dict]:
    # A page can show its heading before its deferred scripts have run.
    page.wait_for_function("() => typeof FieldlineOutbox !== 'undefined'")
    return page.evaluate("""async () => (await FieldlineOutbox.all()).map(
        (i) => ({key: i.key, state: i.state, label: i.label, problems: i.problems || []}))""")


class ClosedToSends:
    """Wraps the live server: sends (POSTs and the token they need) get 503 until opened."""

    def __init__(self, server):
        self.server, self.inner, self.refused = server.server, server.server.app, 0
        self.server.app = self

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" or environ["PATH_INFO"] == "/session/csrf-token":
            self.refused += 1
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"down"]
        return self.inner(environ, start_response)

    def open(self):
        self.server.app = self.inner


def log_offline(page, person="Dana Doorstep", notes="Door damaged, talked on the landing.", when="2026-11-23T09:40",
                photo=True):
    page.get_by_role("radio", name=person).check()
    page.get_by_text("When, where, needs and follow-up").click()
    page.get_by_label("When").fill(when)
    page.get_by_label("Notes").fill(notes)
    if photo:
        page.set_input_files("input[name=photos]", files=[{"name": "door.jpg", "mimeType": "image/jpeg",
                                                           "buffer": jpeg()}])
    page.get_by_role("button", name="Save contact").click()
    page.get_by_text("Saved on this phone — will send when you have signal.").last.wait_for()


def at_the_door_without_signal(phone, server, personas, engine):
    """A signed-in phone with the door pages kept and no signal, on Log contact."""
    _person(engine, personas["worker"], "Dana Doorstep")
    page = phone.new_page()
    sign_in(page, server, personas["worker"])
    ready_for_the_door(page, server)
    phone.set_offline(True)
    page.reload()
    return page


def queue_a_contact_offline(phone, server, personas, engine):
    """A signed-in phone with the door pages kept, no signal, and one contact waiting in the outbox."""
    page = at_the_door_without_signal(phone, server, personas, engine)
    log_offline(page, photo=False)
    return page


def test_a_contact_with_a_photo_logged_offline_survives_a_restart_and_is_sent_once(
        browser, live_server, personas, engine, tmp_path):
    _person(engine, personas["worker"], "Dana Doorstep")
    profile = tmp_path / "phone-profile"
    options = dict(PHONE, executable_path=_chromium_path(), args=CHROMIUM_ARGS)
    context = browser.browser_type.launch_persistent_context(profile, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server, personas["worker"])
    ready_for_the_door(page, live_server)

    context.set_offline(True)
    response = page.reload()
    assert response.from_service_worker and page.get_by_role("heading", name="Log contact").is_visible()
    log_offline(page)
    page.locator("[data-outbox-status]", has_text="1 waiting to send").wait_for()
    assert count(engine, Contact) == 0
    assert_accessible(page)
    # The server stops taking sends (a dead zone the phone cannot see: Background Sync would send
    # at once when the browser starts again), and the phone is switched off and on again.
    gate = ClosedToSends(live_server)
    context.close()
    context = browser.browser_type.launch_persistent_context(profile, **options)
    context.set_default_timeout(10_000)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(live_server.url + "/outbox")
    page.get_by_text("Contact log: Dana Doorstep").wait_for()
    wait_until(page, lambda: gate.refused, message="a send to be tried after the restart")
    assert [i["state"] for i in outbox(page)] == ["waiting"] and count(engine, Contact) == 0
    assert_accessible(page)

    gate.open()
    page.get_by_role("button", name="Send now").click()
    page.locator("[data-outbox-status]", has_text="All sent").wait_for()
    assert outbox(page) == []
    with unit_of_work(engine) as session:
        contact = session.exec(select(Contact)).one()
        photos = session.exec(select(Photo)).all()
    assert len(photos) == 1 and photos[0].contact_id == contact.id
    # The time the worker entered, not the time it was sent.
    assert contact.happened_at.astimezone(live_server.app.extensions["fieldline.settings"].zone).strftime(
        "%Y-%m-%dT%H:%M") == "2026-11-23T09:40"
    context.close()


def test_an_answer_lost_mid_flush_still_leaves_exactly_one_record(phone, live_server, personas, engine):
    page = queue_a_contact_offline(phone, live_server, personas, engine)

    arrived = []

    def lose_the_answer(route):
        if route.request.method != "POST":
            return route.continue_()
        arrived.append(route.fetch().status)  # the server gets it and answers...
        route.abort("internetdisconnected")   # ...and the answer never reaches the phone

    phone.route("**/contacts/new", lose_the_answer)
    phone.set_offline(False)
    wait_until(page, lambda: arrived, message="the flush to reach the server")
    wait_until(page, lambda: count(engine, Contact) == 1, message="the contact to be stored")
    assert [i["state"] for i in outbox(page)] == ["waiting"]  # the phone never heard back

    phone.unroute("**/contacts/new")
    page.goto(live_server.url + "/outbox")
    page.get_by_role("button", name="Send now").click()
    page.locator("[data-outbox-status]", has_text="All sent").wait_for()
    assert outbox(page) == [] and count(engine, Contact) == 1 and len(arrived) >= 1


def test_a_refused_item_stays_fixable_and_an_expired_session_pauses_the_queue(phone, live_server, personas,
                                                                               engine):
    page = at_the_door_without_signal(phone, live_server, personas, engine)
    # Nobody chosen and no description: the server will refuse it.
    page.get_by_label("Notes").fill("Spoke through the door.")
    page.get_by_role("button", name="Save contact").click()
    page.get_by_text("Saved on this phone").last.wait_for()

    phone.set_offline(False)
    page.locator("[data-outbox-status]", has_text="1 needs your attention").wait_for()
    page.goto(live_server.url + "/outbox")
    item = page.locator(".outbox__item")
    item.get_by_text("Needs your attention").wait_for()
    assert re.search(r"· made [A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}, \d\d:\d\d", item.inner_text())  # "Tue 1 Dec, 14:05"
    # The field's own message, whichever flusher (page or service worker) read the answer.
    problems = item.locator(".error").all_inner_texts()
    assert problems == ["Choose the person, or describe a street contact whose name you don't know yet."], problems
    assert_accessible(page)
    item.get_by_role("link", name="Fix").click()
    expect(page.get_by_label("Notes")).to_have_value("Spoke through the door.")
    page.get_by_role("radio", name="Dana Doorstep").check()
    page.get_by_role("button", name="Save contact").click()
    page.get_by_text("Contact saved.").wait_for()
    page.locator("[data-outbox-status]", has_text="All sent").wait_for()
    assert count(engine, Contact) == 1 and outbox(page) == []

    # The session ends on the server while an item waits: the queue pauses, nothing is lost.
    page.goto(live_server.url + "/contacts/new")
    phone.set_offline(True)
    log_offline(page, notes="Second visit.", photo=False)
    with unit_of_work(engine) as session:
        for login in session.exec(select(LoginSession)).all():
            login.ended_at = utcnow()
    phone.set_offline(False)
    page.locator("[data-outbox-status]", has_text="Sign in to send 1").wait_for()
    assert count(engine, Contact) == 1 and [i["state"] for i in outbox(page)] == ["waiting"]
    sign_in(page, live_server, personas["worker"])
    page.locator("[data-outbox-status]", has_text="All sent").wait_for()
    assert count(engine, Contact) == 2


def test_a_check_in_queued_offline_arrives_with_when_it_was_made(phone, live_server, personas, engine):
    with unit_of_work(engine) as session:
        from app.models import Team, User
        worker = session.get(User, personas["worker"].id)
        visit_id = safety.start_visit(session, worker, session.get(Team, worker.team_id),
                                      safety.VisitRequest(place="Stairwell B", minutes=30), now=utcnow()).id
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    ready_for_the_door(page, live_server, "/")
    phone.set_offline(True)
    page.reload()
    page.get_by_role("button", name="I'm safe").click()
    page.get_by_text("The server has not heard this yet: your deadline has not moved.").wait_for()
    page.locator("[data-outbox-status]", has_text="1 waiting to send").wait_for()
    time.sleep(1.5)
    phone.set_offline(False)
    page.locator("[data-outbox-status]", has_text="All sent").wait_for()
    with unit_of_work(engine) as session:
        event = session.exec(select(SafetyEvent).where(SafetyEvent.visit_id == visit_id,
                                                       SafetyEvent.kind == "checked_in")).one()
    assert event.made_at is not None and (event.at - event.made_at).total_seconds() >= 1.0
    page.goto(f"{live_server.url}/visits/{visit_id}")
    line = page.locator("[data-visit-timeline] li", has_text="Checked in")
    assert "made " in line.inner_text() and "on this phone, received" in line.inner_text()
    assert_accessible(page)


def test_signing_out_warns_about_unsent_items_then_leaves_nothing_personal(phone, live_server, personas, engine):
    page = queue_a_contact_offline(phone, live_server, personas, engine)

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_text("Menu").click()
    page.get_by_role("button", name="Sign out").click()
    wait_until(page, lambda: dialogs, message="the warning")
    assert "1 item on this phone has not been sent" in dialogs[0]
    assert len(outbox(page)) == 1 and "/login" not in page.url  # still signed in, nothing lost

    phone.set_offline(False)
    page.locator("[data-outbox-status]", has_text="All sent").wait_for()
    assert count(engine, Contact) == 1
    page.goto(live_server.url + "/")
    page.get_by_text("Menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login?signed_out=1")
    left = page.evaluate("""async () => ({
        databases: (await indexedDB.databases()).map((d) => d.name),
        caches: await caches.keys(),
        local: localStorage.length,
        session: Object.keys(sessionStorage).filter((k) => k !== "htmx-current-path-for-history"),
    })""")
    # (htmx keeps the current path, here the login page's, in sessionStorage: no personal data.)
    assert left == {"databases": [], "caches": [], "local": 0, "session": []}, left


def test_a_new_version_is_offered_not_forced_and_keeps_the_outbox(phone, live_server, personas, engine, tmp_path,
                                                                   monkeypatch):
    from app.pwa import routes as pwa_routes
    page = queue_a_contact_offline(phone, live_server, personas, engine)
    gate = ClosedToSends(live_server)  # keep it queued while the update happens
    phone.set_offline(False)

    newer = tmp_path / "sw.js"
    newer.write_text(pwa_routes.SERVICE_WORKER.read_text() + "\n// a newer release\n")
    monkeypatch.setattr(pwa_routes, "SERVICE_WORKER", newer)
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
    banner = page.locator("[data-update-banner]")
    banner.get_by_text("A new version of Fieldline is ready.").wait_for()
    assert page.url.endswith("/contacts/new")  # nothing changed under the worker's thumb
    with page.expect_navigation():
        banner.get_by_role("button", name="Reload").click()
    page.wait_for_load_state()
    wait_until(page, lambda: page.evaluate("navigator.serviceWorker.controller && "
                                     "navigator.serviceWorker.controller.state === 'activated'"), message="update")
    assert len(outbox(page)) == 1
    gate.open()


def test_a_form_whose_send_fails_with_signal_showing_is_kept_by_the_service_worker(phone, live_server, personas,
                                                                                    engine):
    """The phone thinks it is online, but the send dies (a dead zone): the service worker answers
    with "Saved on this phone" and the item waits in the outbox, to be sent once."""
    _person(engine, personas["worker"], "Dana Doorstep")
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    ready_for_the_door(page, live_server)
    phone.route("**/contacts/new", lambda route: route.abort("internetdisconnected")
                if route.request.method == "POST" else route.continue_())
    phone.route("**/session/csrf-token", lambda route: route.abort("internetdisconnected"))
    page.get_by_role("radio", name="Dana Doorstep").check()
    page.get_by_label("Notes").fill("Said through the letterbox.")
    page.get_by_role("button", name="Save contact").click()
    page.get_by_role("heading", name="Saved on this phone").wait_for()
    wait_until(page, lambda: [i["state"] for i in outbox(page)] == ["waiting"], message="the item to wait")
    assert count(engine, Contact) == 0
    assert_accessible(page)

    phone.unroute("**/contacts/new")
    phone.unroute("**/session/csrf-token")
    page.goto(live_server.url + "/outbox")
    page.get_by_role("button", name="Send now").click()
    page.locator("[data-outbox-status]", has_text="All sent").wait_for()
    assert count(engine, Contact) == 1

