"""Visit timers in a real phone-sized Chromium, and a supervisor's board catching a missed check-in."""
import threading
from datetime import timedelta

from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Visit
from app.models.types import utcnow
from app.worker import Worker
from tests.e2e.conftest import PHONE, assert_accessible, sign_in


def test_worker_starts_checks_in_extends_and_ends_a_visit(browser, live_server, personas, engine):
    context = browser.new_context(**PHONE, geolocation={"latitude": 51.5, "longitude": -0.12},
                                  permissions=["geolocation"])
    try:
        page = context.new_page()
        sign_in(page, live_server, personas["worker"])
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Start visit").click()
        page.get_by_label("Where are you going?").fill("Flat 3, 14 Example Road")
        page.get_by_text("30 min", exact=True).click()
        page.wait_for_selector("text=Your location will be saved")
        assert_accessible(page)
        page.get_by_role("button", name="Start visit").click()
        page.wait_for_selector("text=Visit started. Check in by")

        bar_text = page.locator(".visit-bar").inner_text()
        assert "OK" in bar_text and ("(in 30 min)" in bar_text or "(in 29 min)" in bar_text)
        assert_accessible(page)
        with unit_of_work(engine) as session:
            visit = session.exec(select(Visit)).one()
        assert (visit.latitude, visit.longitude) == (51.5, -0.12)

        page.get_by_role("button", name="I'm safe").click()
        page.wait_for_selector("text=Checked in. Next check-in by")
        page.locator("[data-visit-bar] summary").click()  # the bar's "More"
        page.get_by_role("button", name="Extend +15 minutes").click()
        page.wait_for_selector("text=Extended. Check in by")
        with unit_of_work(engine) as session:
            extended = session.get(Visit, visit.id)
        assert extended.planned_end_at - visit.planned_end_at == timedelta(minutes=15)

        page.locator("[data-visit-bar] summary").click()
        page.get_by_role("link", name="End visit or more").click()
        assert_accessible(page)
        page.get_by_role("button", name="End visit").click()
        page.wait_for_selector("text=Visit ended. Stay safe.")
        assert page.locator(".visit-bar").count() == 0
        with unit_of_work(engine) as session:
            assert session.get(Visit, visit.id).state == "ended"
    finally:
        context.close()


def test_a_missed_check_in_reaches_the_supervisors_board_who_acknowledges(browser, live_server, personas, app, engine):
    worker_context = browser.new_context(**PHONE)
    supervisor_context = browser.new_context(**PHONE)
    stop = threading.Event()
    settings = app.extensions["fieldline.settings"]
    loop = threading.Thread(target=Worker.for_settings(engine, settings.__class__(
        **{**settings.__dict__, "tick_seconds": 0.2})).run, args=(stop,))
    try:
        supervisor = supervisor_context.new_page()
        sign_in(supervisor, live_server, personas["supervisor"])
        assert supervisor.get_by_text("Nobody is on a visit.").is_visible()

        worker = worker_context.new_page()
        sign_in(worker, live_server, personas["worker"])
        worker.goto(live_server.url + "/visits/new")
        worker.get_by_label("Where are you going?").fill("Hope House, room 12")
        worker.get_by_text("15 min", exact=True).click()
        worker.get_by_role("button", name="Start visit").click()
        worker.wait_for_selector("text=Visit started")

        # The board refreshes itself: the running visit appears without a reload.
        supervisor.wait_for_selector("text=Hope House, room 12", timeout=8000)
        assert_accessible(supervisor)

        # Let the visit run out (as if 15 minutes and the grace period had passed) and the engine run.
        with unit_of_work(engine) as session:
            visit = session.exec(select(Visit)).one()
            visit.due_at = utcnow() - timedelta(seconds=61)
            visit.overdue_at = utcnow()
        loop.start()
        supervisor.wait_for_selector("text=Missed check-in: Wren Walker", timeout=10000)
        assert supervisor.locator(".alert-row .tag").first.inner_text().startswith("Open")
        assert_accessible(supervisor)
        supervisor.get_by_role("button", name="Acknowledge alert for Wren Walker").click()
        supervisor.wait_for_selector("text=You are responding.")
        assert supervisor.get_by_role("heading", name="Emergency action card").is_visible()
        assert_accessible(supervisor)
        with unit_of_work(engine) as session:
            alert = session.exec(select(Alert)).one()
        assert alert.state == "acknowledged" and alert.acknowledged_by_id == personas["supervisor"].id

        # The worker's own screen says plainly that the team was alerted.
        worker.reload()
        assert worker.get_by_text("Check-in missed: your team has been alerted").is_visible()
    finally:
        stop.set()
        if loop.is_alive():
            loop.join(10)
        worker_context.close()
        supervisor_context.close()
