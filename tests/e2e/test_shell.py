"""The app shell in a real phone-sized Chromium: sign-in, home pages, PWA, offline, accessibility."""
import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert
from tests.e2e.conftest import SCREENSHOTS, assert_accessible, sign_in


@pytest.mark.parametrize("role, heading", [("worker", "Today"), ("supervisor", "Team A"), ("admin", "Administration")])
def test_each_role_signs_in_on_a_phone_and_sees_its_home_page(phone, live_server, personas, role, heading):
    page = phone.new_page()
    page.goto(live_server.url + "/login")
    assert_accessible(page)
    sign_in(page, live_server, personas[role])
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").is_visible()
    assert_accessible(page)
    if role == "worker":
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "home-worker.png")


def test_bottom_nav_targets_are_at_least_48px(phone, live_server, personas):
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    for link in page.get_by_role("navigation", name="Main").get_by_role("link").all():
        box = link.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48, link.inner_text()


def test_admin_pages_pass_axe(phone, live_server, personas):
    page = phone.new_page()
    sign_in(page, live_server, personas["admin"])
    for path in ("/admin/users", "/admin/users/new", "/admin/teams", "/admin/teams/new",
                 f"/admin/users/{personas['worker'].id}", f"/admin/users/{personas['worker'].id}/audit"):
        page.goto(live_server.url + path)
        assert_accessible(page)
    # A form with errors is accessible too.
    page.goto(live_server.url + "/admin/users/new")
    page.get_by_role("button", name="Add user").click()
    page.wait_for_selector(".error")
    assert_accessible(page)


def test_crisis_page_offers_999_the_duty_phone_and_a_keyboard_way_to_send_the_alarm(phone, live_server, personas,
                                                                                    engine):
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    # With the keyboard (or a screen reader), Crisis opens its page instead of needing a hold.
    page.get_by_role("link", name="Crisis").press("Enter")
    page.wait_for_url(live_server.url + "/crisis")
    assert page.get_by_role("link", name="Call 999").get_attribute("href") == "tel:999"
    sms = page.get_by_role("link", name="Text the duty phone").get_attribute("href")
    assert sms.startswith("sms:07700900100?body=")
    assert_accessible(page)
    page.get_by_role("button", name="Send crisis alarm to my team").press("Enter")
    page.get_by_role("heading", name="Help has been alerted").wait_for()
    with unit_of_work(engine) as session:
        assert [a.kind for a in session.exec(select(Alert)).all()] == ["panic"]


def test_pwa_service_worker_controls_the_page_and_serves_offline(phone, live_server, personas):
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    assert page.locator('link[rel="manifest"]').get_attribute("href") == "/manifest.webmanifest"
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == live_server.url + "/sw.js"

    page.goto(live_server.url + "/settings/notifications")
    page.get_by_text("Nothing waiting", exact=False).or_(page.get_by_text("All sent")).first.wait_for()
    phone.set_offline(True)
    # Today is kept for the door; a page that is not says it needs a connection.
    response = page.goto(live_server.url + "/")
    assert response.from_service_worker
    assert page.get_by_role("heading", level=1).inner_text() == "Today"
    response = page.goto(live_server.url + "/settings/notifications")
    assert response.from_service_worker
    assert page.get_by_role("heading", level=1).inner_text() == "No connection"
    assert page.get_by_role("link", name="In danger? Call 999").get_attribute("href") == "tel:999"
    assert_accessible(page)
    # Only the shell and the few pages marked for the door are in Cache Storage.
    cached = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
        }
        return urls;
    }""")
    shell = {"/offline", "/offline/saved", "/static/css/app.css", "/static/js/app.js", "/static/js/safety.js",
             "/static/js/outbox.js", "/static/js/offline.js", "/static/js/crisis.js", "/static/js/vendor/htmx-2.0.11.min.js",
             "/static/icons/icon-192.png", "/static/js/push.js"}  # push.js: fetched by the settings page
    door = {"/", "/caseload/offline", "/contacts/new", "/outbox", "/crisis"}
    assert set(cached) <= shell | door, set(cached) - shell - door
    assert "/settings/notifications" not in cached and "/caseload" not in cached
    phone.set_offline(False)


def test_signing_out_clears_the_phone(phone, live_server, personas):
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.evaluate("navigator.serviceWorker.ready")
    page.get_by_text("Menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login?signed_out=1")
    assert "You have signed out" in page.content()
    storage = page.evaluate("""async () => ({
        caches: (await caches.keys()).length,
        local: localStorage.length,
    })""")
    assert storage["local"] == 0
