"""The Crisis button in a real phone-sized Chromium: hold to send, a tap does nothing, no signal."""
import time
from urllib.parse import unquote

from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert
from tests.e2e.conftest import PHONE, assert_accessible, sign_in
from tests.e2e.test_offline import outbox, ready_for_the_door, wait_until

WHERE = {"latitude": 51.52345, "longitude": -0.08765}


def panic_alarms(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(Alert).where(Alert.kind == "panic")).all()


def hold(page, seconds):
    crisis = page.get_by_role("link", name="Crisis")
    crisis.hover()
    page.mouse.down()
    page.wait_for_timeout(int(seconds * 1000))
    page.mouse.up()


def test_holding_crisis_alerts_the_board_with_the_location_and_a_tap_does_nothing(browser, live_server, personas,
                                                                                   engine):
    worker = browser.new_context(**PHONE, geolocation=WHERE, permissions=["geolocation"])
    supervisor = browser.new_context(**PHONE)
    try:
        page = worker.new_page()
        sign_in(page, live_server, personas["worker"])
        board = supervisor.new_page()
        sign_in(board, live_server, personas["supervisor"])

        hold(page, 0.4)  # a tap, or a pocket
        page.get_by_text("Hold Crisis for 2 seconds to send an alarm.").wait_for()
        page.wait_for_timeout(500)
        assert panic_alarms(engine) == [] and page.url == live_server.url + "/"

        started = time.monotonic()
        hold(page, 2.3)
        page.get_by_role("heading", name="Help has been alerted").wait_for()
        board.locator("#board").get_by_text("Crisis button: Wren Walker").wait_for(timeout=5000)
        board.locator("#board").get_by_text("At 51.52345, -0.08765").wait_for(timeout=5000)
        assert time.monotonic() - started < 2.3 + 5
        assert len(panic_alarms(engine)) == 1
        assert_accessible(page)

        board.locator("#board").get_by_role("button", name="Acknowledge").click()
        page.get_by_text("Sade Super is responding.").wait_for(timeout=10_000)
    finally:
        worker.close()
        supervisor.close()


def test_with_no_signal_crisis_offers_a_text_to_the_duty_phone_and_sends_the_alarm_later(browser, live_server,
                                                                                          personas, engine):
    worker = browser.new_context(**PHONE, geolocation=WHERE, permissions=["geolocation"])
    worker.set_default_timeout(10_000)
    try:
        page = worker.new_page()
        sign_in(page, live_server, personas["worker"])
        ready_for_the_door(page, live_server, "/")
        worker.set_offline(True)
        page.reload()
        hold(page, 2.3)
        panel = page.locator("[data-crisis-panel]")
        panel.get_by_role("heading", name="No data signal").wait_for()
        sms = unquote(panel.get_by_role("link", name="Text the duty phone").get_attribute("href"))
        assert sms.startswith("sms:07700900100?body=FIELDLINE CRISIS: Wren Walker needs help now.")
        assert "51.52345, -0.08765" in sms and "openstreetmap.org/?mlat=51.52345&mlon=-0.08765" in sms
        assert panel.get_by_role("link", name="Call 999").get_attribute("href") == "tel:999"
        assert [i["label"] for i in outbox(page)] == ["Crisis alarm"] and panic_alarms(engine) == []
        assert_accessible(page)

        worker.set_offline(False)
        wait_until(page, lambda: len(panic_alarms(engine)) == 1, message="the queued alarm")
        wait_until(page, lambda: outbox(page) == [], message="the outbox to empty")
        page.wait_for_timeout(1000)
        [alarm] = panic_alarms(engine)
        assert len(panic_alarms(engine)) == 1 and round(alarm.latitude, 5) == WHERE["latitude"]
    finally:
        worker.close()


def test_the_crisis_page_says_the_alarm_goes_without_a_location_the_phone_will_not_give(phone, live_server,
                                                                                       personas):
    page = phone.new_page()  # no geolocation permission: the phone gives no location
    sign_in(page, live_server, personas["worker"])
    page.goto(live_server.url + "/crisis")
    status = page.locator("[data-geo-status]")
    status.get_by_text("the alarm goes without it").wait_for()
    assert "visit will start" not in status.inner_text()


def test_a_queued_alarm_goes_when_the_signal_returns_though_the_browser_never_says_so(browser, live_server,
                                                                                     personas, engine):
    # The phone believes it is online all along (a dead spot, a captive portal): no offline or online
    # event. With no service worker either (no Background Sync, no flush at its start), only the
    # page's own retry, every few seconds while something waits, can send the alarm.
    worker = browser.new_context(**PHONE, geolocation=WHERE, permissions=["geolocation"], service_workers="block")
    worker.set_default_timeout(10_000)
    unreachable = ["**/crisis/alarm", "**/session/csrf-token"]
    try:
        page = worker.new_page()
        sign_in(page, live_server, personas["worker"])
        for url in unreachable:
            page.route(url, lambda route: route.abort("internetdisconnected"))
        hold(page, 2.3)
        page.locator("[data-crisis-panel]").get_by_role("heading", name="No data signal").wait_for()
        page.wait_for_timeout(6000)  # a retry or more with no signal: it stays queued, nothing is lost
        assert [i["label"] for i in outbox(page)] == ["Crisis alarm"] and panic_alarms(engine) == []

        for url in unreachable:
            page.unroute(url)
        wait_until(page, lambda: len(panic_alarms(engine)) == 1, message="the queued alarm")
        wait_until(page, lambda: outbox(page) == [], message="the outbox to empty")
    finally:
        worker.close()
