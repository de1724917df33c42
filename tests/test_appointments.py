"""Appointments: recurrence across DST, one occurrence changed, clashes, reminders through the
real worker loop to a local push receiver, did-not-attend follow-ups, the calendar feed, access."""
import json
import random
import re

import pytest
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule
from icalendar import Calendar
from sqlmodel import select

from app.db import unit_of_work
from app.models import Appointment, Delivery, User
from app.models.types import utcnow
from app.services import appointment_reminders, appointments, calendar_feed
from app.worker import Worker
from tests.test_caseload import add_person
from tests.test_notifications import make_job, receiver, settings, subscribe  # noqa: F401 (fixtures)

LONDON = ZoneInfo("Europe/London")


def make(client, person_id, **data):
    form = {"person_id": str(person_id), "kind": "home_visit", "starts_local": "2026-11-24T10:00",
            "duration_minutes": "60", "repeat": "none", **data}
    return client.post_form("/appointments/new", form)


def the_appointment(engine) -> Appointment:
    with unit_of_work(engine) as session:
        return session.exec(select(Appointment).order_by(Appointment.id.desc())).first()


def test_a_weekly_series_keeps_its_local_time_across_the_clocks_going_back(engine, personas, worker_client):
    person_id = add_person(worker_client)
    # Clocks go back on Sunday 25 October 2026: 10:00 is 09:00 UTC before, 10:00 UTC after.
    assert make(worker_client, person_id, starts_local="2026-10-19T10:00", repeat="weekly",
                repeat_until="2026-11-09").status_code == 303
    appointment = the_appointment(engine)
    with unit_of_work(engine) as session:
        found = appointments.occurrences(session, [appointment], datetime(2026, 10, 1), datetime(2026, 12, 1), LONDON)
    assert [o.starts_local.strftime("%d %H:%M") for o in found] == ["19 10:00", "26 10:00", "02 10:00", "09 10:00"]
    assert [o.starts_at.hour for o in found] == [9, 10, 10, 10]
    fortnightly = Appointment(id=0, team_id=1, worker_id=1, person_id=1, kind="office", duration_minutes=30,
                              starts_local=datetime(2026, 3, 23, 9, 30), repeat="fortnightly")
    starts = appointments.series_starts(fortnightly, datetime(2026, 3, 1), datetime(2026, 4, 30))
    assert [(s.day, s.hour) for s in starts] == [(23, 9), (6, 9), (20, 9)]  # BST starts 29 March


def test_one_occurrence_is_moved_or_cancelled_without_touching_the_series(engine, personas, worker_client):
    person_id = add_person(worker_client)
    make(worker_client, person_id, starts_local="2026-11-24T10:00", repeat="weekly")
    appointment = the_appointment(engine)
    moved = worker_client.post_form(f"/appointments/{appointment.id}/move",
                                    {"on": "2026-12-01T10:00", "starts_local": "2026-12-01T14:30"},
                                    page=f"/appointments/{appointment.id}?on=2026-12-01T10:00")
    assert moved.status_code == 303
    worker_client.post_form(f"/appointments/{appointment.id}/move", {"on": "2026-12-08T10:00", "cancel": "y"},
                            page=f"/appointments/{appointment.id}?on=2026-12-08T10:00")
    with unit_of_work(engine) as session:
        found = appointments.occurrences(session, [session.get(Appointment, appointment.id)],
                                         datetime(2026, 11, 20), datetime(2026, 12, 20), LONDON)
    assert [(o.starts_local.strftime("%d %H:%M"), o.cancelled) for o in found] == [
        ("24 10:00", False), ("01 14:30", False), ("08 10:00", True), ("15 10:00", False)]
    # Not an occurrence of this series: 404, nothing stored.
    assert worker_client.get(f"/appointments/{appointment.id}?on=2026-12-02T10:00").status_code == 404


def test_errors_keep_what_was_typed_and_clashes_are_flagged(worker_client, engine):
    person_id = add_person(worker_client)
    bad = make(worker_client, person_id, duration_minutes="2", place="Hope House, room 4")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "The length must be between 5 and 480 minutes." in page or "Number must be between 5 and 480" in page
    assert 'value="Hope House, room 4"' in page
    assert make(worker_client, person_id, starts_local="2026-11-24T10:00").status_code == 303
    clash = make(worker_client, person_id, starts_local="2026-11-24T10:30", kind="office")
    page = worker_client.get(clash.headers["Location"]).get_data(as_text=True)
    assert "Note: this clashes with another appointment on Tue 24 Nov at 10:00." in page


def test_reminders_go_through_the_worker_loop_and_follow_changes(engine, personas, worker_client, receiver,
                                                                  settings):
    """The real worker loop (reminder job, then the delivery job) on the real clock: the appointment
    is moved about instead of the clock."""
    subscribe(engine, personas["worker"], receiver.subscription())
    person_id = add_person(worker_client, name="Robin Reminder")

    def starting_in(minutes):
        return (utcnow() + timedelta(minutes=minutes)).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")

    def move_to(minutes):
        worker_client.post_form(f"/appointments/{appointment.id}/edit", {
            "person_id": str(person_id), "kind": "home_visit", "starts_local": starting_in(minutes),
            "duration_minutes": "60", "repeat": "none"})

    make(worker_client, person_id, starts_local=starting_in(45))
    appointment = the_appointment(engine)
    worker = Worker(engine, jobs=[appointment_reminders.ReminderJob(LONDON, every=timedelta(0)), make_job(settings)])
    worker.tick()  # 45 minutes ahead: the 30-minute reminder is not due yet
    assert receiver.messages == []
    move_to(29)
    worker.tick()
    [push] = receiver.messages
    assert push.payload["title"].startswith("Home visit at ") and "Robin" not in json.dumps(push.payload)
    worker.tick()
    assert len(receiver.messages) == 1  # once only

    move_to(50)  # later: its reminder is not due yet
    worker.tick()
    assert len(receiver.messages) == 1
    move_to(20)  # earlier again: a reminder for the new time
    worker.tick()
    assert len(receiver.messages) == 2
    worker_client.post_form(f"/appointments/{appointment.id}/cancel", page=f"/appointments/{appointment.id}/edit")
    with unit_of_work(engine) as session:
        assert appointment_reminders.due_reminders(session, utcnow(), LONDON) == []
        sent = session.exec(select(Delivery).where(Delivery.kind == "reminder")).all()
    assert [d.status for d in sent] == ["sent", "sent"]


def test_the_evening_before_reminder(engine, personas, worker_client):
    person_id = add_person(worker_client)
    make(worker_client, person_id, starts_local="2026-11-24T10:00")
    evening = datetime(2026, 11, 23, 18, 0, tzinfo=LONDON)
    with unit_of_work(engine) as session:
        assert appointment_reminders.due_reminders(session, evening - timedelta(minutes=1), LONDON) == []
        [(message, user)] = appointment_reminders.due_reminders(session, evening, LONDON)
        assert user.id == personas["worker"].id and message.title == "Home visit at Tue 24 Nov, 10:00"
        session.get(User, personas["worker"].id).remind_evening_before = False
        session.flush()
        assert appointment_reminders.due_reminders(session, evening, LONDON) == []


def test_did_not_attend_asks_for_a_follow_up_and_stays_on_the_persons_record(worker_client, engine, personas):
    person_id = add_person(worker_client, name="Dale Didnt")
    today = utcnow().astimezone(LONDON).date()
    make(worker_client, person_id, starts_local=f"{today.isoformat()}T08:00")
    appointment = the_appointment(engine)
    on = f"{today.isoformat()}T08:00"
    today_page = worker_client.get("/").get_data(as_text=True)
    assert "Dale Didnt" in today_page and "08:00" in today_page
    assert f"/visits/new?appointment={appointment.id}" in today_page
    answer = worker_client.post_form(f"/appointments/{appointment.id}/outcome",
                                     {"on": on, "outcome": "did_not_attend", "note": "No answer at the door."},
                                     page=f"/appointments/{appointment.id}?on={on}")
    assert answer.status_code == 303
    today_page = worker_client.get("/").get_data(as_text=True)
    assert "Follow up" in today_page and "Did not attend" in today_page
    # No outcome chosen: the page again with what to fix, the note kept, nothing stored.
    forgot = worker_client.post_form(f"/appointments/{appointment.id}/outcome",
                                     {"on": on, "note": "Left a card under the door."},
                                     page=f"/appointments/{appointment.id}?on={on}")
    text = forgot.get_data(as_text=True)
    assert forgot.status_code == 422 and "Choose what happened." in text and "Left a card under the door." in text
    assert "Left a card" not in worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    timeline = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Did not attend" in timeline and "No answer at the door." in timeline
    record_id = re.search(r"/appointments/follow-ups/(\d+)/done", today_page).group(1)
    worker_client.post_form(f"/appointments/follow-ups/{record_id}/done", page="/")
    assert "Follow up" not in worker_client.get("/").get_data(as_text=True)


def test_start_visit_from_an_appointment_is_filled_in(worker_client, engine):
    person_id = add_person(worker_client, address="Flat 2, Canal Street")
    make(worker_client, person_id, starts_local="2026-11-24T10:00", duration_minutes="45")
    appointment = the_appointment(engine)
    page = worker_client.get(f"/visits/new?appointment={appointment.id}&on=2026-11-24T10:00").get_data(as_text=True)
    assert f'<option selected value="{person_id}">' in page
    assert 'value="Flat 2, Canal Street"' in page
    assert re.search(r'<input checked id="minutes-\d" name="minutes" required type="radio" value="45">', page)


def test_the_calendar_feed_shows_initials_only_and_a_new_link_revokes_the_old(worker_client, engine):
    person_id = add_person(worker_client, name="Dana Doorstep", address="Flat 3, 14 Example Road")
    today = utcnow().astimezone(LONDON).date()
    make(worker_client, person_id, starts_local=f"{(today + timedelta(days=2)).isoformat()}T10:00", repeat="weekly")
    page = worker_client.post_form("/settings/calendar", page="/settings/calendar").get_data(as_text=True)
    url = re.search(r'class="feed-url">([^<]+)<', page).group(1)
    path = url.split("localhost", 1)[1]
    feed = worker_client.get(path)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.data)
    events = calendar.walk("VEVENT")
    assert len(events) >= 4 and {str(e["SUMMARY"]) for e in events} == {"DD — Home visit"}
    assert "Dana" not in feed.get_data(as_text=True) and "Example Road" not in feed.get_data(as_text=True)
    assert events[0].decoded("DTSTART").astimezone(LONDON).hour == 10
    worker_client.post_form("/settings/calendar", page="/settings/calendar")
    assert worker_client.get(path).status_code == 404
    assert worker_client.get("/calendar/not-a-real-token.ics").status_code == 404


def test_another_team_sees_nothing_and_supervisors_see_the_week(worker_client, other_worker_client,
                                                                 supervisor_client, engine):
    person_id = add_person(worker_client, name="Pat Private")
    make(worker_client, person_id, starts_local="2026-11-24T10:00")
    appointment = the_appointment(engine)
    on = "2026-11-24T10:00"
    assert other_worker_client.get(f"/appointments/{appointment.id}?on={on}").status_code == 404
    assert other_worker_client.get(f"/appointments/{appointment.id}/edit").status_code == 404
    assert other_worker_client.post_form(f"/appointments/{appointment.id}/outcome",
                                         {"on": on, "outcome": "attended"}, page="/").status_code == 404
    assert other_worker_client.get(f"/visits/new?appointment={appointment.id}").status_code == 404
    assert make(other_worker_client, person_id).status_code == 422  # someone they cannot see
    week = supervisor_client.get("/appointments/team?week=2026-11-24").get_data(as_text=True)
    assert "Tuesday 24 November" in week and "Pat Private" in week and "Wren Walker" in week
    assert worker_client.get("/appointments/team").status_code == 404
    assert date(2026, 11, 24).weekday() == 1


def test_lead_times_are_the_workers_and_people_who_agreed_get_a_discreet_text(worker_client, engine, personas):
    page = worker_client.post_form("/settings/reminders", {"remind_minutes_before": "60"},
                                   page="/settings/calendar")
    assert page.status_code == 303
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        assert (worker.remind_evening_before, worker.remind_minutes_before) == (False, 60)
    refused = worker_client.post_form("/people/new", {
        "name": "Tex Texted", "status": "open", "consent_to_share": "not_asked", "risk_level": "low",
        "reason": "First", "sms_reminders": "y"})
    assert refused.status_code == 422 and "Add a phone number to text reminders to." in refused.get_data(as_text=True)
    texted = add_person(worker_client, name="Tex Texted", phone="07700900222", sms_reminders="y")
    silent = add_person(worker_client, name="Nora Notext", phone="07700900333")
    make(worker_client, texted, starts_local="2026-11-24T10:00", kind="court")
    make(worker_client, silent, starts_local="2026-11-24T11:00")
    evening = datetime(2026, 11, 23, 18, 0, tzinfo=LONDON)
    with unit_of_work(engine) as session:
        assert appointment_reminders.due_texts(session, evening - timedelta(minutes=1), LONDON) == []
        [(phone, text, ref, worker)] = appointment_reminders.due_texts(session, evening, LONDON)
        reminders = appointment_reminders.due_reminders(session, datetime(2026, 11, 24, 9, 0, tzinfo=LONDON), LONDON)
    assert phone == "07700900222" and worker.id == personas["worker"].id
    assert text == "Reminder: you have an appointment on Tue 24 Nov at 10:00. If you can't make it, please let us know."
    assert "court" not in text.lower() and "Tex" not in text
    assert [m.title for m, _ in reminders] == ["Court or panel at Tue 24 Nov, 10:00"]  # 60 minutes before only


def test_a_persons_text_goes_word_for_word_through_the_sms_gateway(engine, personas, worker_client, settings):
    from tests.peers import SmsGateway
    person_id = add_person(worker_client, name="Tex Texted", phone="07700900222", sms_reminders="y")
    local = (utcnow() + timedelta(hours=3)).astimezone(LONDON)
    make(worker_client, person_id, starts_local=local.strftime("%Y-%m-%dT%H:%M"))
    with SmsGateway() as gateway:
        job = make_job(settings, sms_gateway_url=gateway.url + "/send")
        # Three hours ahead: the evening-before moment has passed, the 2-hour cut-off has not.
        Worker(engine, jobs=[appointment_reminders.ReminderJob(LONDON, every=timedelta(0)), job]).tick()
        [request] = gateway.requests
    message = request["json"]
    assert message["to"] == "07700900222" and message["body"].startswith("Reminder: you have an appointment on ")
    assert "Fieldline" not in message["body"] and "http" not in message["body"]


def test_series_dates_are_the_rules_counted_from_the_first_date_wherever_the_window_is():
    """series_starts starts rrule near the window for speed: it must give exactly the dates rrule
    gives counting from the series' first date (weekly, fortnightly, monthly on the 29th-31st)."""
    rng = random.Random(4)
    firsts = [datetime(2024, 1, 31, 10, 0), datetime(2024, 2, 29, 9, 15), datetime(2024, 8, 30, 17, 45),
              datetime(2025, 3, 30, 1, 30)]  # the last: the night the clocks go forward
    for n in range(600):
        repeat = ("weekly", "fortnightly", "monthly")[n % 3]
        first = firsts[n % 4] if n % 5 == 0 else datetime(2024, 1, 1, 8, 0) + timedelta(
            days=rng.randrange(700), minutes=15 * rng.randrange(48))
        until = rng.choice([None, (first + timedelta(days=rng.randrange(-5, 500))).date()])
        series = Appointment(starts_local=first, repeat=repeat, repeat_until=until)
        frequency, interval = {"weekly": (WEEKLY, 1), "fortnightly": (WEEKLY, 2), "monthly": (MONTHLY, 1)}[repeat]
        # No end date: the series repeats for ever.
        rule = rrule(frequency, interval=interval, dtstart=first,
                     until=datetime.combine(until, time.max) if until else None)
        # Half the windows open exactly on one of the series' dates, the edge a miscount would lose.
        dates = rule.between(first, first + timedelta(days=800), inc=True)
        start = (rng.choice(dates) if n % 2 and dates
                 else first + timedelta(days=rng.randrange(-90, 700), minutes=rng.randrange(1440)))
        end = start + timedelta(days=rng.choice([1, 2, 7, 64, 120]))
        expected = [moment for moment in rule.between(start, end, inc=True) if moment < end]
        assert appointments.series_starts(series, start, end) == expected, (repeat, first, until, start, end)


def test_an_occurrence_moves_at_most_a_month_so_a_window_can_find_it(engine, personas, worker_client):
    person_id = add_person(worker_client)
    assert make(worker_client, person_id, starts_local="2026-12-01T10:00").status_code == 303
    one_off = the_appointment(engine)
    original = datetime(2026, 12, 1, 10, 0)
    page = f"/appointments/{one_off.id}?on=2026-12-01T10:00"

    def move(starts_local, place=""):
        return worker_client.post_form(f"/appointments/{one_off.id}/move",
                                       {"on": "2026-12-01T10:00", "starts_local": starts_local, "place": place},
                                       page=page)

    # Refused: the page again, the error next to the time, what was typed still there.
    refused = move("2027-01-02T10:00", place="Day centre, back room")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="starts_local-error"><span class="sr-prefix">Error: </span>Move it by 31 days at most', text)
    assert 'value="2027-01-02T10:00"' in text and 'value="Day centre, back room"' in text
    assert "<details class=\"card\" open>" in text
    not_a_time = move("next Tuesday", place="Day centre")
    assert not_a_time.status_code == 422 and 'id="starts_local-error"' in not_a_time.get_data(as_text=True)
    with unit_of_work(engine) as session:
        assert appointments.occurrences(session, [one_off], datetime(2026, 12, 1), datetime(2027, 2, 1), LONDON)[
            0].starts_local == original  # nothing changed
    assert move("2026-12-30T09:00").status_code == 303
    # Moved into a window from a month away: found there, and reminded there (its day, not its old one).
    with unit_of_work(engine) as session:
        [found] = appointments.occurrences(session, [one_off], datetime(2026, 12, 30), datetime(2026, 12, 31), LONDON)
        assert found.starts_local == datetime(2026, 12, 30, 9, 0) and found.original_local == original
        assert appointments.occurrences(session, [one_off], datetime(2026, 12, 1), datetime(2026, 12, 2), LONDON) == []
        eve = datetime(2026, 12, 29, 18, 0, tzinfo=LONDON)
        [(message, _)] = appointment_reminders.due_reminders(session, eve, LONDON)
        assert message.title == "Home visit at Wed 30 Dec, 09:00"
        assert appointment_reminders.due_reminders(session, datetime(2026, 11, 30, 18, 0, tzinfo=LONDON), LONDON) == []


def test_a_last_date_typed_for_an_appointment_that_does_not_repeat_is_not_dropped(worker_client, engine):
    person_id = add_person(worker_client)
    refused = make(worker_client, person_id, repeat="none", repeat_until="2026-12-24")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and the_appointment(engine) is None
    assert "It does not repeat: choose how often it repeats, or clear the last date." in page
    assert 'value="2026-12-24"' in page


def test_did_not_attend_is_never_shown_in_the_green_of_a_good_outcome(worker_client, engine):
    person_id = add_person(worker_client, name="Dale Didnt")
    today = utcnow().astimezone(LONDON).date()
    on = f"{today.isoformat()}T08:00"
    make(worker_client, person_id, starts_local=on)
    appointment = the_appointment(engine)
    worker_client.post_form(f"/appointments/{appointment.id}/outcome", {"on": on, "outcome": "did_not_attend"},
                            page=f"/appointments/{appointment.id}?on={on}")
    for page in ("/", f"/appointments/{appointment.id}?on={on}"):
        html = worker_client.get(page).get_data(as_text=True)
        assert 'tag--ok">Did not attend' not in html and 'tag--warn">Did not attend' in html, page


def test_the_reminder_form_shows_what_is_stored_after_making_a_calendar_address(worker_client, engine, personas):
    assert worker_client.post_form("/settings/reminders", {"remind_evening_before": "y",
                                                           "remind_minutes_before": "30"}).status_code == 303
    page = worker_client.post_form("/settings/calendar").get_data(as_text=True)
    assert re.search(r'<input checked id="remind_evening_before"', page)
    assert re.search(r'<option selected value="30">', page)
    # A refused choice is the same page again, with what was chosen and why.
    refused = worker_client.post_form("/settings/reminders", {"remind_evening_before": "y",
                                                              "remind_minutes_before": "45"}, page="/settings/calendar")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and re.search(r'<input checked id="remind_evening_before"', html)
    assert "Not a valid choice" in html or "Choose" in html
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        assert (worker.remind_evening_before, worker.remind_minutes_before) == (True, 30)


@pytest.mark.parametrize("name, expected", [
    ("Hannah Quinn (demo)", "HQ"), ("Dana Doorstep", "DD"), ("  jean-luc o'brien ", "JO"), ("Zoë Ängel", "ZÄ"),
    ("(demo)", "?"), ("Ann Bea Cara Dee", "ABC"), ("'Sam' 2nd Smith", "SS"), ("", "?"),
])
def test_calendar_initials_are_letters_only(name, expected):
    assert calendar_feed.initials(name) == expected


def test_saving_an_appointment_lands_where_it_is_shown(worker_client, engine):
    person_id = add_person(worker_client, name="Dana Doorstep")
    today = utcnow().astimezone(LONDON).date()
    later = today + timedelta(days=9)
    saved = make(worker_client, person_id, starts_local=f"{later.isoformat()}T10:00")
    appointment = the_appointment(engine)
    assert saved.status_code == 303 and saved.headers["Location"] == \
        f"/appointments/{appointment.id}?on={later.isoformat()}T10:00"
    page = worker_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Appointment saved." in page and later.strftime("%-d %b") in page
    # Moved to another day: the moved one's page; on today: Today, which lists it.
    moved = worker_client.post_form(f"/appointments/{appointment.id}/move", {
        "on": f"{later.isoformat()}T10:00", "starts_local": f"{(later + timedelta(days=1)).isoformat()}T11:00",
        "place": ""}, page=saved.headers["Location"])
    assert moved.headers["Location"] == f"/appointments/{appointment.id}?on={later.isoformat()}T10:00"
    assert make(worker_client, person_id, starts_local=f"{today.isoformat()}T23:00").headers["Location"] == "/"
    # An outcome for an earlier day: that day's appointment, with its outcome.
    before = (today - timedelta(days=3)).isoformat() + "T09:00"
    make(worker_client, person_id, starts_local=before)
    past = the_appointment(engine)
    recorded = worker_client.post_form(f"/appointments/{past.id}/outcome", {"on": before, "outcome": "attended"},
                                       page=f"/appointments/{past.id}?on={before}")
    assert recorded.headers["Location"] == f"/appointments/{past.id}?on={before}"


@pytest.mark.parametrize("repeat, weeks_ago", [("weekly", 104), ("fortnightly", 78), ("monthly", None)])
def test_a_series_with_no_end_date_keeps_repeating_years_later(engine, personas, repeat, weeks_ago):
    """It repeats until cancelled: Today, the reminders and the team's week still find it years on."""
    today = utcnow().astimezone(LONDON).date()
    if weeks_ago:
        first_day = today - timedelta(weeks=weeks_ago)
    else:  # the same day of the month, two years ago (four on 29 February)
        first_day = today.replace(year=today.year - (4 if (today.month, today.day) == (2, 29) else 2))
    worker = personas["worker"]
    with unit_of_work(engine) as session:
        person_id = session.exec(select(Appointment.person_id)).first()
        if person_id is None:
            from app.models import Person
            person = Person(team_id=worker.team_id, name="Sid Series", risk_level="low")
            session.add(person)
            session.flush()
            person_id = person.id
        session.add(Appointment(team_id=worker.team_id, worker_id=worker.id, person_id=person_id, kind="home_visit",
                                starts_local=datetime.combine(first_day, time(10, 0)), duration_minutes=30,
                                repeat=repeat))
    with unit_of_work(engine) as session:
        user = session.get(User, worker.id)
        found = appointments.agenda(session, user, today, LONDON)
        assert [o.starts_local.date() for o in found] == [today]
        the_day_before = datetime.combine(today - timedelta(days=1), time(9, 0), tzinfo=LONDON)
        assert [o.starts_local.date() for o, _ in appointment_reminders.upcoming(session, the_day_before, LONDON)] == [today]
