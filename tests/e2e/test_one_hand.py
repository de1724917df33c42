"""Pages a worker can use one-handed at a 360 px and a 390 px phone: measured in a real Chromium."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import Delivery, Team, User, Visit
from app.models.types import utcnow
from app.services import safety
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
        for path, button in (("/appointments/new", "Save appointment"), ("/people/new", "Add person"),
                             ("/settings/safety", "Save")):
            page.goto(live_server.url + path)
            assert in_reach(page, page.get_by_role("button", name=button, exact=True)), f"{path}: {button} out of reach"
        page.goto(live_server.url + "/contacts/new")

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


CONTROL_SIZES = """() => [...document.querySelectorAll('main input[type=radio], main input[type=checkbox]')]
    .filter((input) => input.offsetParent !== null)
    .map((input) => {
        const box = input.getBoundingClientRect();
        const target = (input.closest('label') || input).getBoundingClientRect();
        const text = input.closest('label') && input.closest('label').querySelector('span');
        return {name: (input.closest('label') || input).innerText.trim().slice(0, 40), w: box.width, h: box.height,
                tw: target.width, th: target.height, lines: text ? text.getClientRects().length : 1,
                chip: !!input.closest('.choices:not(.choices--2):not(.choices--3)')};
    })"""


def controls(page) -> list[dict]:
    page.locator("main details").evaluate_all("(all) => all.forEach((d) => { d.open = true; })")
    return page.evaluate(CONTROL_SIZES)


@pytest.mark.parametrize("screen", [SMALL, LARGE], ids=["360x740", "390x844"])
def test_radios_and_checkboxes_keep_their_size_and_a_48px_target(browser, live_server, personas, engine, screen):
    person_id = _person(engine, personas["worker"], "Dana Doorstep-Featherstonehaugh-Montgomery (known as Dee)")
    context = browser.new_context(**screen)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, live_server, personas["worker"])
        seen = []
        for path in ("/contacts/new", "/visits/new", f"/people/{person_id}/refer/domestic_abuse", "/settings/safety"):
            page.goto(live_server.url + path)
            found = controls(page)
            assert found, path
            seen += [(path, c) for c in found]
            assert_accessible(page)
        supervisor = context.new_page()
        context.clear_cookies()
        sign_in(supervisor, live_server, personas["supervisor"])
        supervisor.goto(live_server.url + "/team/settings")
        seen += [("/team/settings", c) for c in controls(supervisor)]
        assert_accessible(supervisor)

        names = " ".join(c["name"] for _, c in seen)
        assert "Attempted" in names and "120 min" in names and "Silent Crisis" in names and "Without consent: there is a risk" in names
        small = [(p, c["name"], round(c["w"]), round(c["h"])) for p, c in seen if c["w"] < 24 or c["h"] < 24]
        assert not small, f"controls that shrank: {small}"
        short = [(p, c["name"], round(c["tw"]), round(c["th"])) for p, c in seen if c["tw"] < 48 or c["th"] < 48]
        assert not short, f"targets under 48 px: {short}"
        wrapped = [(p, c["name"]) for p, c in seen if c["chip"] and c["lines"] > 1]
        assert not wrapped, f"duration chips that wrap: {wrapped}"
    finally:
        context.close()


def test_typing_an_other_length_chooses_other(phone, live_server, personas, engine):
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(live_server.url + "/visits/new")
    page.get_by_label("Where are you going?").fill("Flat 3, 14 Example Road")
    assert page.get_by_role("radio", name="30 min").is_checked()
    page.get_by_label("Other length (minutes)").fill("45")
    assert page.get_by_role("radio", name="Other").is_checked()
    page.get_by_role("radio", name="60 min").check()
    assert page.get_by_label("Other length (minutes)").input_value() == ""
    page.get_by_label("Other length (minutes)").fill("50")
    page.get_by_role("button", name="Start visit").click()
    page.wait_for_selector("text=Visit started")
    with unit_of_work(engine) as session:
        visit = session.exec(select(Visit)).one()
    assert visit.planned_end_at - visit.started_at == timedelta(minutes=50)


def test_a_refused_form_names_each_problem_as_a_link_to_its_field_and_takes_focus(phone, live_server, personas):
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(live_server.url + "/visits/new")
    page.get_by_role("radio", name="Other").check()
    page.get_by_role("button", name="Start visit").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    summary.wait_for()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    link = summary.get_by_role("link", name="Other length (minutes) — Choose how long the visit will take.")
    assert link.get_attribute("href") == "#custom_minutes"
    assert_accessible(page)
    link.click()
    assert page.evaluate("document.activeElement.id") == "custom_minutes"
    assert page.get_by_label("Other length (minutes)").is_visible()


def look(locator) -> dict:
    return locator.evaluate("""(el) => { const s = getComputedStyle(el), b = el.getBoundingClientRect();
        return {bg: s.backgroundColor, border: s.borderTopWidth + ' ' + s.borderTopColor, top: b.top, bottom: b.bottom,
                w: b.width, h: b.height}; }""")


@pytest.mark.parametrize("screen", [SMALL, LARGE], ids=["360x740", "390x844"])
def test_call_buttons_look_like_calls_and_stand_apart_from_the_alarm(browser, live_server, personas, engine, screen):
    context = browser.new_context(**screen)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, live_server, personas["worker"])
        page.goto(live_server.url + "/crisis")
        call, send = page.get_by_role("link", name="Call 999"), page.get_by_role("button", name="Send crisis alarm")
        call_look, send_look = look(call), look(send)
        assert call_look["bg"] != send_look["bg"] and call_look["border"] != send_look["border"]
        apart = send_look["top"] - call_look["bottom"] if send_look["top"] > call_look["top"] \
            else call_look["top"] - send_look["bottom"]
        assert apart >= 32, f"only {apart:.0f} px between Call 999 and the alarm"
        assert_accessible(page)

        with unit_of_work(engine) as session:
            alert = safety.crisis_alarm(session, session.get(User, personas["worker"].id),
                                        session.get(Team, personas["worker"].team_id), now=utcnow())
            alert_id = alert.id
        context.clear_cookies()
        sign_in(page, live_server, personas["supervisor"])
        page.goto(live_server.url + f"/alerts/{alert_id}")
        phone_call = page.get_by_role("link", name="Call Wren Walker (07700900111)")
        assert phone_call.get_attribute("href") == "tel:07700900111"
        size = look(phone_call)
        assert size["h"] >= 48 and size["w"] >= screen["viewport"]["width"] * 0.8
        acknowledge = look(page.get_by_role("button", name="Acknowledge — I'm responding"))
        assert look(phone_call)["bg"] != acknowledge["bg"]
        assert_accessible(page)
    finally:
        context.close()


@pytest.mark.parametrize("scheme, screen", [("light", LARGE), ("dark", SMALL)], ids=["light-390", "dark-360"])
def test_flags_that_change_how_to_approach_the_door_stand_out(browser, live_server, personas, engine, scheme, screen):
    _person(engine, personas["worker"], "Dana Doorstep", flags=["not_alone", "substance_use", "dog"])
    context = browser.new_context(**screen, color_scheme=scheme)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, live_server, personas["worker"])
        page.goto(live_server.url + "/caseload")
        row = page.locator("main li", has_text="Dana Doorstep")
        door = row.locator(".flag-group", has_text="Approach with care:")
        assert door.get_by_text("Do not visit alone").is_visible() and door.get_by_text("Aggressive dog").is_visible()
        assert door.get_by_text("Substance use").count() == 0
        also = row.locator(".flag-group", has_text="Also:")
        alone, substance = look(door.get_by_text("Do not visit alone")), look(also.get_by_text("Substance use"))
        assert alone["bg"] != substance["bg"] and alone["border"] != substance["border"]
        assert_accessible(page)  # axe's colour contrast, in this colour scheme
    finally:
        context.close()


def a_failed_delivery(engine, persona, when):
    with unit_of_work(engine) as session:
        session.add(Delivery(dedupe_key="alert:1:level:1:sms", kind="alert", event_ref="alert:1", channel="sms",
                             recipient_id=persona.id, address="07700900111", title="Alert", body="b", url="/board",
                             status="failed", attempts=6, created_at=when,
                             last_error="SMS carrier answered 503 Service Unavailable: retry budget exhausted"))


@pytest.mark.parametrize("screen", [SMALL, LARGE], ids=["360x740", "390x844"])
def test_admin_tables_fit_a_phone_and_show_local_time(browser, live_server, personas, engine, screen):
    a_failed_delivery(engine, personas["supervisor"], datetime(2026, 7, 1, 12, 0, 5, tzinfo=UTC))
    context = browser.new_context(**screen)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, live_server, personas["admin"])
        for path in ("/admin/users", "/notifications/log", f"/admin/users/{personas['worker'].id}/audit"):
            page.goto(live_server.url + path)
            widest = page.evaluate("""() => Math.max(document.documentElement.scrollWidth,
                ...[...document.querySelectorAll('main table')].map((t) => t.getBoundingClientRect().right))""")
            assert widest <= screen["viewport"]["width"], f"{path} is {widest:.0f} px wide"
            small = page.evaluate("""() => [...document.querySelectorAll('main td a')]
                .map((a) => a.getBoundingClientRect()).filter((r) => r.width < 48 || r.height < 48).length""")
            assert small == 0, f"{path}: {small} links in its table are smaller than 48 px"
            assert_accessible(page)
        page.goto(live_server.url + "/notifications/log")
        # Europe/London in July is UTC+1: the organisation's clock, not the server's.
        assert page.get_by_text("Wed 1 Jul 2026, 13:00:05 BST").is_visible()
    finally:
        context.close()


def test_with_no_signal_every_page_keeps_crisis_im_safe_and_a_way_back(browser, live_server, personas, engine):
    from tests.e2e.test_crisis import WHERE, hold
    from tests.e2e.test_offline import outbox, ready_for_the_door, wait_until

    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    context = browser.new_context(**SMALL, geolocation=WHERE, permissions=["geolocation"])
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        on_a_visit(page, live_server, personas["worker"])
        ready_for_the_door(page, live_server, "/")
        context.set_offline(True)

        # The kept caseload leads somewhere that works with no signal, and a save is seen where it is made.
        page.goto(live_server.url + "/caseload/offline")
        assert page.locator("main a[href^='/people/']").count() == 0
        link = page.get_by_role("link", name="Log contact with Dana Doorstep")
        assert link.get_attribute("href") == f"/contacts/new?person={person_id}"
        link.click()
        page.get_by_role("heading", name="Log contact").wait_for()
        assert page.get_by_role("radio", name="Dana Doorstep").is_checked()
        page.get_by_label("Notes").fill("Talked on the landing.")
        page.get_by_role("button", name="Save contact").click()
        saved = page.locator(".form-actions").get_by_text("Saved on this phone — will send when you have signal.")
        saved.wait_for()
        box = saved.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= 740
        assert_accessible(page)

        # A page the phone did not keep: the no-signal page, with the whole chrome around it.
        response = page.goto(live_server.url + f"/people/{person_id}")
        assert response.from_service_worker
        page.get_by_role("heading", name="No connection").wait_for()
        page.locator("[data-visit-bar]").get_by_role("button", name="I'm safe").wait_for()
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_role("link", name="Today").get_attribute("href") == "/"
        assert_accessible(page)
        page.locator("[data-visit-bar]").get_by_role("button", name="I'm safe").click()
        hold(page, 2.3)
        panel = page.locator("[data-crisis-panel]")
        panel.get_by_role("heading", name="No data signal").wait_for()
        sms = panel.get_by_role("link", name="Text the duty phone").get_attribute("href")
        assert sms.startswith("sms:07700900100?body=") and "Wren%20Walker" in sms
        wait_until(page, lambda: sorted(i["label"] for i in outbox(page)) == ["Check-in", "Contact log", "Crisis alarm"],
                   message="the contact, the check-in and the alarm kept on the phone")
    finally:
        context.close()
