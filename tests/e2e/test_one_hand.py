"""Pages a worker can use one-handed at a 360 px and a 390 px phone: measured in a real Chromium."""
import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import Visit
from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_caseload import _person

SMALL = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LARGE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def on_a_visit(page, server, persona):
    sign_in(page, server, persona)
    page.goto(server.url + "/visits/new")
    page.get_by_label("Where are you going?").fill("Flat 3, 14 Example Road")
    page.get_by_role("button", name="Start visit").click()
    page.wait_for_selector("text=Visit started")


def share_of_screen(page, selector) -> float:
    return page.evaluate(f"document.querySelector('{selector}').getBoundingClientRect().height / innerHeight")


def in_reach(page, locator) -> bool:
    """On screen between the visit bar and the bottom navigation, and the top thing at its centre."""
    return page.evaluate("""(el) => {
        const box = el.getBoundingClientRect();
        const nav = document.querySelector('.bottom-nav').getBoundingClientRect();
        const bar = document.querySelector('[data-visit-bar]');
        const top = bar ? bar.getBoundingClientRect().bottom : 0;
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return box.top >= top && box.bottom <= nav.top && (hit === el || el.contains(hit));
    }""", locator.element_handle())


@pytest.mark.parametrize("screen", [SMALL, LARGE], ids=["360x740", "390x844"])
def test_the_visit_bar_is_one_line_and_save_stays_in_reach(browser, live_server, personas, engine, screen):
    _person(engine, personas["worker"], "Dana Doorstep")
    context = browser.new_context(**screen)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        on_a_visit(page, live_server, personas["worker"])

        page.goto(live_server.url + "/contacts/new")

        bar = share_of_screen(page, "[data-visit-bar]")
        print(f"\n{screen['viewport']}: visit bar {bar:.1%} of the screen")
        assert bar <= 0.12, f"the visit bar takes {bar:.0%} of the screen"
        safe = page.get_by_role("button", name="I'm safe")
        assert safe.is_visible() and safe.bounding_box()["height"] >= 48 and safe.bounding_box()["width"] >= 96
        save = page.get_by_role("button", name="Save contact")
        assert in_reach(page, save), "Save is not on screen without scrolling"
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(200)
        assert in_reach(page, save), "Save scrolled out of reach"
        assert page.get_by_role("button", name="I'm safe").is_visible()
        assert_accessible(page)

        # The rest of the bar opens on demand, and says so.
        assert not page.get_by_role("button", name="Extend +15 minutes").is_visible()
        page.locator("[data-visit-bar] summary").click()
        page.get_by_role("button", name="Extend +15 minutes").wait_for()
        assert page.get_by_role("link", name="End visit or more").is_visible()
        assert_accessible(page)

        # Alerted: still short, the message and I'm safe both on screen.
        with unit_of_work(engine) as session:
            session.exec(select(Visit)).one().state = "overdue"
        page.goto(live_server.url + "/contacts/new")
        alerted = share_of_screen(page, "[data-visit-bar]")
        print(f"{screen['viewport']}: alerted visit bar {alerted:.1%}")
        assert alerted <= 0.2, f"the alerted visit bar takes {alerted:.0%} of the screen"
        assert page.get_by_text("Check-in missed: your team has been alerted").is_visible()
        assert in_reach(page, page.get_by_role("button", name="Save contact"))
        page.screenshot(path=f"/tmp/h5shots/bar-{screen['viewport']['width']}.png")
        assert_accessible(page)
    finally:
        context.close()
