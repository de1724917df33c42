"""The supervisor's console in a real phone-sized Chromium: allocating a person takes three taps
from the unallocated list, with each worker's load now and after matching a hand count; axe passes
on every console page at 360 px and at 390 px."""
from datetime import time

from sqlmodel import select

from app.db import unit_of_work
from app.models import Person
from tests.e2e.conftest import PHONE, assert_accessible, sign_in
from tests.test_allocation import person
from tests.test_rota import add_shift

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}


def test_allocate_in_three_taps_with_the_load_before_and_after(browser, live_server, personas, engine):
    worker, worker2, supervisor = personas["worker"], personas["worker2"], personas["supervisor"]
    person(engine, supervisor, "Held High", "high", worker.id)       # Wren: 3 points of 30 = 10 %
    person(engine, supervisor, "Held Medium", "medium", worker2.id)  # Ola: 2 points = 7 %
    new_id = person(engine, supervisor, "Nia New", "very_high")      # 5 points to place
    add_shift(engine, worker.team_id, supervisor.id, weekdays=[0], starts=time(9), ends=time(17))
    context = browser.new_context(**SMALL_PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    sign_in(page, live_server, supervisor)
    page.goto(f"{live_server.url}/allocate")
    assert_accessible(page)

    page.get_by_role("link", name="Allocate Nia New").click()                        # tap 1
    page.get_by_role("heading", name="Allocate Nia New").wait_for()
    wren = page.locator("label.choice", has_text="Wren Walker").inner_text().replace("\xa0", " ")
    # By hand: Wren now 3 of 30 points = 10 %, after 3 + 5 = 8 of 30 = 27 %; Ola 2 -> 7 of 30 = 23 %.
    assert "Now: Within capacity 10 %" in wren and "After: Within capacity 27 % (8 points)" in wren
    ola = page.locator("label.choice", has_text="Ola Other").inner_text().replace("\xa0", " ")
    assert "7 %" in ola and "23 % (7 points)" in ola
    assert_accessible(page)
    page.get_by_role("radio", name="Ola Other").check()                            # tap 2
    page.get_by_role("button", name="Allocate").click()                            # tap 3
    page.get_by_text("Allocated.").wait_for()
    assert page.get_by_role("link", name="Allocate Nia New").count() == 0
    with unit_of_work(engine) as session:
        assert session.exec(select(Person.key_worker_id).where(Person.id == new_id)).one() == worker2.id

    for width, height in ((360, 740), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for path in ("/allocate", f"/people/{new_id}/allocate", f"/people/{new_id}", "/rota", "/team/leave",
                     "/team/load", "/board", "/figures", "/figures?period=2026-Q4",
                     "/figures/records/open.very_high"):
            page.goto(live_server.url + path)
            assert_accessible(page)
    page.goto(f"{live_server.url}/rota")
    assert page.get_by_role("button", name="Remove Monday 09:00 to 17:00").is_visible()
    assert not refused, refused
    context.close()
