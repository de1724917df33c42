"""A full disk in a real Chromium: I'm safe answered 503 keeps the check-in in the phone's outbox,
and it is sent once when there is room again."""
from sqlmodel import func, select

from app.db import unit_of_work
from app.models import SafetyEvent, Team, User
from app.models.types import utcnow
from app.services import safety
from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_offline import outbox, ready_for_the_door, wait_until
from tests.test_full_disk import app, fill, small_disk  # noqa: F401 (fixtures: the app on a small tmpfs)


def test_a_check_in_the_server_could_not_save_stays_on_the_phone_and_is_sent_once(phone, live_server, personas,
                                                                                    engine, small_disk):
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        safety.start_visit(session, worker, session.get(Team, worker.team_id),
                           safety.VisitRequest(place="Stairwell B", minutes=30), now=utcnow())
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    ready_for_the_door(page, live_server, "/")
    ballast = fill(small_disk)
    page.get_by_role("button", name="I'm safe").click()
    page.get_by_role("heading", name="Not saved").wait_for()
    page.get_by_text("It is kept on your phone and will be sent again.").wait_for()
    wait_until(page, lambda: [(i["label"], i["state"]) for i in outbox(page)] == [("Check-in", "waiting")],
               message="the check-in to wait in the outbox")
    assert_accessible(page)

    ballast.unlink()
    page.get_by_role("button", name="Send again now").click()
    page.locator("[data-outbox-status]", has_text="All sent").wait_for()
    assert outbox(page) == []
    with unit_of_work(engine) as session:
        assert session.exec(select(func.count()).select_from(SafetyEvent)
                            .where(SafetyEvent.kind == "checked_in")).one() == 1
