"""The casework figures (caseload, contact, appointments with orders' absences, referrals, plans and
outcomes) against a hand count on seeded data; each figure's link lists exactly as many records as
the figure says; the CSV is the page's table; a worker sees their own figures only."""
import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta

from app.db import unit_of_work
from app.models import (Appointment, AppointmentOccurrence, ComplianceEvent, Contact, MeasureResponse, Order, Person,
                        Plan, PlanVersion, Referral, ReferralEvent, Visit)
from app.services import casework_figures as casework
from app.services import figures, figures_behind, home_visit_cover
from tests.helpers import LONDON
from tests.test_daily_pages import statements

NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)
NOVEMBER = figures.month(date(2026, 11, 1), LONDON)
OCTOBER = figures.previous(NOVEMBER, LONDON)


def at(month, day, hour=12):
    return datetime(2026, month, day, hour, tzinfo=UTC)


def seed(engine, personas) -> dict[str, int]:
    """November 2026 for team A (London is on GMT then, so local midnight is UTC midnight)."""
    worker, worker2, supervisor = personas["worker"], personas["worker2"], personas["supervisor"]
    team = worker.team_id
    with unit_of_work(engine) as session:
        def person(name, risk, holder, created, **more):
            found = Person(team_id=team, name=name, risk_level=risk, key_worker_id=holder.id, created_at=created, **more)
            session.add(found)
            session.flush()
            return found.id
        ann = person("Ann", "high", worker, at(11, 5))
        ben = person("Ben", "high", worker2, at(10, 10))
        cat = person("Cat", "low", worker, at(6, 1))
        dan = person("Dan", "medium", worker, at(11, 15), status="closed", closed_at=at(11, 25))
        eve = person("Eve", "very_high", worker2, at(9, 1))
        stranger = Person(team_id=personas["other_worker"].team_id, name="Elsewhere", created_at=at(11, 5))
        session.add(stranger)
        session.flush()

        def contact(person_id, when, **more):
            session.add(Contact(team_id=more.pop("team_id", team), person_id=person_id, author_id=worker.id,
                                contact_type="visit", happened_at=when, **more))
        contact(ann, at(11, 27))
        contact(ben, at(10, 28))
        contact(ben, at(11, 20))
        contact(ben, at(11, 29), deleted_at=at(11, 30))  # deleted: not a contact
        contact(cat, at(9, 1))
        contact(cat, at(11, 10))
        contact(dan, at(10, 20))  # met in the street before his case opened
        contact(stranger.id, at(11, 30), team_id=stranger.team_id)

        weekly = Appointment(team_id=team, worker_id=worker.id, person_id=ann, kind="home_visit",
                             starts_local=datetime(2026, 11, 2, 10), duration_minutes=60, repeat="weekly")
        once = Appointment(team_id=team, worker_id=worker2.id, person_id=ben, kind="office",
                           starts_local=datetime(2026, 10, 20, 14), duration_minutes=30)
        session.add_all([weekly, once])
        session.flush()
        for day, more in [(2, {"outcome": "attended"}), (9, {"outcome": "did_not_attend"}), (16, {"cancelled": True}),
                          (23, {"outcome": "cancelled_by_person"}),
                          (30, {"outcome": "attended", "starts_local": datetime(2026, 12, 1, 9)})]:  # moved out
            session.add(AppointmentOccurrence(appointment_id=weekly.id, original_local=datetime(2026, 11, day, 10),
                                              **more))
        session.add(AppointmentOccurrence(appointment_id=once.id, original_local=datetime(2026, 10, 20, 14),
                                          outcome="attended"))
        # Home visits: Ann's weekly (Wren's) and two one-offs; the visit timers started around them.
        cat_home = Appointment(team_id=team, worker_id=worker.id, person_id=cat, kind="home_visit",
                               starts_local=datetime(2026, 11, 12, 14), duration_minutes=60)
        ben_home = Appointment(team_id=team, worker_id=worker2.id, person_id=ben, kind="home_visit",
                               starts_local=datetime(2026, 11, 20, 9), duration_minutes=30)
        session.add_all([cat_home, ben_home])

        def timer(by, person_id, started_at):
            session.add(Visit(worker_id=by.id, team_id=team, person_id=person_id, place="x", started_at=started_at,
                              planned_end_at=started_at, due_at=started_at, grace_seconds=60, overdue_at=started_at,
                              state="ended"))
        timer(worker, ann, at(11, 2, 9) + timedelta(minutes=30))  # half an hour before: covers the 2nd
        timer(worker, ann, at(11, 9, 8) + timedelta(minutes=59))  # 61 minutes before the 9th: outside
        timer(worker, ann, at(11, 16, 10))  # the 16th was cancelled: not a home visit to cover
        timer(worker2, cat, at(11, 12, 14) + timedelta(minutes=5))  # Cat's, but Ola's timer, not Wren's
        timer(worker2, ben, at(11, 20, 9) + timedelta(minutes=30))  # at the end of Ben's: covers it

        order = Order(team_id=team, person_id=ann, kind="licence", made_by="Parole board", starts_on=date(2026, 1, 1),
                      ends_on=date(2027, 12, 31), responsible_officer_id=worker.id, created_by_id=supervisor.id)
        session.add(order)
        session.flush()

        def outcome(on, source, found, kind="outcome"):
            event = ComplianceEvent(team_id=team, person_id=ann, order_id=order.id, kind=kind, occurred_on=on,
                                    source=source, outcome=found, recorded_by_id=worker.id)
            session.add(event)
            session.flush()
        outcome(date(2026, 11, 9), "appointment:1:a", "unacceptable_absence")
        outcome(date(2026, 11, 9), "appointment:1:a", "acceptable_absence", "correction")  # stands
        outcome(date(2026, 11, 16), "appointment:1:b", "unacceptable_absence")
        outcome(date(2026, 10, 5), "appointment:1:c", "acceptable_absence")

        def referral(person_id, route, sent_at, answered=None, status="sent"):
            found = Referral(team_id=team, person_id=person_id, author_id=worker.id, route=route, status=status,
                             lawful_basis="consent", sent_at=sent_at)
            session.add(found)
            session.flush()
            if answered:
                session.add(ReferralEvent(referral_id=found.id, at=answered[1], status=answered[0]))
        referral(ann, "housing", at(11, 3), ("acknowledged", at(11, 7)))  # 4 days of 5: in time
        referral(ben, "mental_health", at(11, 10), ("accepted", at(11, 13)))  # 3 days of 2: late
        referral(cat, "mental_health", at(11, 20))  # no answer
        referral(ann, "police", None, status="draft")  # never sent
        referral(ben, "housing", at(10, 15), ("declined", at(10, 16)))

        for person_id, due, reviewed in [(ann, "2026-11-10", at(11, 8)), (cat, "2026-11-01", at(11, 12))]:
            plan = Plan(team_id=team, person_id=person_id, review_due_on=date(2027, 2, 1), created_by_id=worker.id)
            session.add(plan)
            session.flush()
            session.add(PlanVersion(plan_id=plan.id, team_id=team, number=1, kind="change", change="Made",
                                    snapshot={"review_due_on": due}, made_by_id=worker.id, made_at=at(10, 1)))
            session.add(PlanVersion(plan_id=plan.id, team_id=team, number=2, kind="review", change="Reviewed",
                                    snapshot={"review_due_on": "2027-02-01"}, made_by_id=worker.id, made_at=reviewed))
        for person_id, first, latest in [(ann, 20, 8), (cat, 10, 9)]:
            for when, total in ((at(11, 2), first), (at(11, 25), latest)):
                session.add(MeasureResponse(team_id=team, person_id=person_id, instrument="phq9", instrument_version="1",
                                            asked_by_id=worker.id, taken_at=when, total=total))
    return {"ann": ann, "ben": ben, "cat": cat, "dan": dan, "eve": eve}


def rows(table):
    return {row[0]: row[1:] for row in table.rows}


def test_each_casework_figure_matches_a_hand_count(engine, personas):
    ids = seed(engine, personas)
    team = casework.Scope(personas["worker"].team_id)
    with unit_of_work(engine) as session:
        caseload = rows(casework.caseload_table(session, team, NOVEMBER, OCTOBER, LONDON))
        by_worker = rows(casework.by_worker_table(session, team, NOVEMBER, LONDON))
        contact = rows(casework.contact_table(session, team, NOVEMBER, OCTOBER, NOW))
        seen_low = figures_behind.behind(session, "seen.low", team, NOVEMBER, LONDON, NOW)
        appointments = rows(casework.appointments_table(session, team, NOVEMBER, OCTOBER))
        referrals = rows(casework.referrals_table(session, team, NOVEMBER, OCTOBER, LONDON))
        plans = rows(casework.plans_table(session, team, NOVEMBER, OCTOBER, LONDON))
        improved = figures_behind.behind(session, "improved.phq9", team, NOVEMBER, LONDON, NOW)
        mine = casework.Scope(team.team_id, personas["worker2"].id)
        my_caseload = rows(casework.caseload_table(session, mine, NOVEMBER, OCTOBER, LONDON))
        my_appointments = rows(casework.appointments_table(session, mine, NOVEMBER, OCTOBER))
        safety = rows(figures.safety_table(session, team.team_id, NOVEMBER, OCTOBER, LONDON))
        home_visits = figures_behind.behind(session, "home_visits", team, NOVEMBER, LONDON, NOW)
        uncovered = figures_behind.behind(session, "home_visits.uncovered", team, NOVEMBER, LONDON, NOW)
        my_home_visits = figures_behind.behind(session, "home_visits", mine, NOVEMBER, LONDON, NOW)
        with statements(engine) as seen:  # the series, their changes, the visits, the names: not one per appointment
            home_visit_cover.home_visits(session, team.team_id, NOVEMBER, LONDON)
        with statements(engine) as appointment_statements:
            casework.appointments_table(session, team, NOVEMBER, OCTOBER)
        with statements(engine) as safety_statements:
            figures.safety_table(session, team.team_id, NOVEMBER, OCTOBER, LONDON)
    # Caseload. New: Ann, Dan (November), Ben (October); closed: Dan; open now: Ann, Ben high, Cat low, Eve very high.
    assert caseload["New people"] == [2, 1] and caseload["Closed"] == [1, 0]
    assert [caseload[f"Open now: {level} risk"][0] for level in ("Low", "Medium", "High", "Very high")] == [1, 0, 2, 1]
    # Wren holds Ann and Cat (Ann and Dan new, Dan closed); Ola holds Ben and Eve.
    assert by_worker["Wren Walker"] == [2, 2, 1] and by_worker["Ola Other"] == [2, 0, 0]
    assert by_worker["Sade Super"] == [0, 0, 0]
    # Contact at 1 December 00:00: Ann 3.5 days ago (high: 7), Ben 10.5 (his deleted contact doesn't count), Cat
    # 20.5 (low: 28), Eve never. At 1 November: Ben 3.5 days, Cat 60.5; Ann was not yet on the caseload.
    assert contact["High risk: seen within 7 days"] == ["1 of 2", "1 of 1"]
    assert contact["High risk: not seen within 7 days"] == [1, 0]
    assert contact["Low risk: seen within 28 days"] == ["1 of 1", "0 of 1"]
    assert contact["Very high risk: not seen within 3 days"] == [1, 1]
    assert contact["High risk: median days since last contact"] == ["6.5", "3"]
    assert contact["Very high risk: median days since last contact"] == ["none", "none"]
    assert [b.person_id for b in seen_low] == [ids["cat"]]
    # Appointments: the weekly series' 2nd kept, 9th missed, 16th and 23rd cancelled, the 30th moved into December.
    assert appointments["Kept (attended)"] == [1, 1] and appointments["Did not attend"] == [1, 0]
    assert appointments["Cancelled"] == [2, 0]
    # Orders: the 9th's unacceptable absence was corrected to acceptable; the 16th's stands.
    assert appointments["Orders: acceptable absences"] == [1, 1]
    assert appointments["Orders: unacceptable absences"] == [1, 0]
    # Referrals: housing answered in 4 days of its 5; mental health in 3 of 2 (late), and one unanswered.
    assert referrals["Sent: Housing — homelessness duty to refer"] == [1, 1]
    assert referrals["Sent: Mental-health crisis team"] == [2, 0] and referrals["Sent: Police"] == [0, 0]
    assert referrals["Sent in all"] == [3, 1] and referrals["Answered within the route's expected time"] == [1, 1]
    # Plans: Ann's reviewed on the 8th (due the 10th), Cat's on the 12th (due the 1st). PHQ-9: Ann 20 -> 8 (by 6 or
    # more: reliable improvement), Cat 10 -> 9.
    assert plans["Plan reviews"] == [2, 0] and plans["Reviewed on time"] == [1, 0]
    assert plans["PHQ-9: reliable improvement"] == ["1 of 2", "0 of 0"]
    assert [b.person_id for b in improved] == [ids["ann"]]
    # Ola's own: Ben and Eve, the October appointment.
    assert my_caseload["New people"] == [0, 1] and my_caseload["Open now: High risk"][0] == 1
    assert my_appointments["Kept (attended)"] == [0, 1] and my_appointments["Cancelled"] == [0, 0]
    # Home visits held in November: Ann's 2nd (covered) and 9th (the timer 61 minutes early), Cat's (another
    # worker's timer), Ben's (covered at its end); Ann's 16th and 23rd were cancelled, the 30th moved out.
    assert safety["Home visits covered by a timer"] == ["2 of 4 home visits (50 %)", "0 of 0 home visits"]
    assert safety["Home visits not covered by a timer"] == [2, 0]
    assert [(b.person_id, b.what[-3:]) for b in home_visits] == [
        (ids["ann"], "yes"), (ids["ann"], " no"), (ids["cat"], " no"), (ids["ben"], "yes")]
    assert [b.what for b in uncovered] == ["Home visit by Wren Walker, 9 Nov 2026, 10:00: covered by a timer: no",
                                           "Home visit by Wren Walker, 12 Nov 2026, 14:00: covered by a timer: no"]
    assert [b.person_id for b in my_home_visits] == [ids["ben"]]
    assert len(seen) == 5
    # Only the timers of each home visit's worker with that person are read (not the team's thousands).
    assert "appointment.id IN (" in next(sql for sql in seen if "FROM visit" in sql)
    # Both periods' appointments are counted in one query (then each period's orders' absences).
    assert len(appointment_statements) == 3
    # The safety table: each period's visits and alerts, and the home visits of both read once.
    assert len(safety_statements) == 2 + 2 + 5


def _numbers(body: str) -> list[tuple[str, int]]:
    """Every linked figure on the page: (its records' address, the number shown)."""
    return [(href.replace("&amp;", "&"), int(re.match(r"\d+", value).group()))
            for href, value in re.findall(r'<td><a href="(/figures/records/[^"]+)">([^<]+)<span', body)]


def test_every_figure_links_to_as_many_records_as_it_says_and_the_csv_is_the_table(
        supervisor_client, worker_client, admin_client, engine, personas):
    seed(engine, personas)
    page = supervisor_client.get("/figures?period=2026-11")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    linked = _numbers(body)
    assert len(linked) >= 30
    for href, value in linked:
        listed = supervisor_client.get(href).get_data(as_text=True)
        assert listed.count('class="list__item"') == value, href
        assert f"<strong>{value}</strong> record" in listed
    assert "Ann</a>" in supervisor_client.get("/figures/records/improved.phq9?period=2026-11").get_data(as_text=True)
    for key in ("caseload", "by_worker", "contact", "appointments", "referrals", "plans", "casework_trend", "safety"):
        download = list(csv.reader(io.StringIO(supervisor_client.get(f"/figures/{key}.csv?period=2026-11")
                                               .get_data(as_text=True))))
        table_html = body.split(f'<h2 id="{key}">')[1].split("</table>")[0]
        cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", table_html)]
        cells = [html.unescape(re.sub(r":\s*the records behind.*", "", cell)) for cell in cells]
        assert [cell for row in download for cell in row] == cells, key
    assert '<title id="appointments_trend-chart-title">Appointments kept per month' in body
    assert "style=" not in body and "<script>" not in body
    # A quarter, beside the one before: October to December holds three kept appointments.
    quarter = supervisor_client.get("/figures?period=2026-Q4").get_data(as_text=True)
    assert "Figures: Team A, October–December 2026" in quarter
    assert '<th scope="col">July–September 2026</th>' in quarter
    assert re.search(r'<th scope="row">Kept \(attended\)</th><td><a [^>]+>3<', quarter)
    # A worker sees their own figures only; another team is a 404 to all but an admin.
    own = worker_client.get("/figures?period=2026-11").get_data(as_text=True)
    assert "Figures: your own, November 2026" in own and 'id="safety"' not in own and 'id="by_worker"' not in own
    assert re.search(r'<th scope="row">New people</th><td><a [^>]+>2<', own)  # Ann and Dan are Wren's
    assert worker_client.get(f"/figures?team={personas['other_worker'].team_id}").status_code == 404
    assert supervisor_client.get(f"/figures?team={personas['other_worker'].team_id}").status_code == 404
    assert worker_client.get("/figures/records/no.such?period=2026-11").status_code == 404
    assert worker_client.get("/figures/records/new?period=2026-11").get_data(as_text=True).count("list__item") == 2
    admin = admin_client.get(f"/figures/records/new?period=2026-11&team={personas['worker'].team_id}")
    assert admin.status_code == 200 and "Ann" not in admin.get_data(as_text=True)  # names: the team's own staff


def test_a_snapshot_keeps_the_month_through_corrections_and_retention_and_the_page_says_so(
        supervisor_client, engine, personas):
    from app.models import FigureSnapshot, User
    from app.services import retention

    ids = seed(engine, personas)
    job = figures.SnapshotJob(LONDON)
    job(engine, datetime(2026, 12, 1, 0, 5, tzinfo=UTC))  # in a thread of its own: the safety loop goes on
    job.wait()
    with unit_of_work(engine) as session:
        assert session.exec(FigureSnapshot.__table__.select()).all()  # both teams' November
        cat = session.get(Person, ids["cat"])
        cat.risk_level = "very_high"  # a correction made after the month ended
        session.add(Visit(worker_id=personas["worker"].id, team_id=cat.team_id, person_id=ids["ann"], place="x",
                          started_at=at(11, 9, 10), planned_end_at=at(11, 9, 11), due_at=at(11, 9, 11),
                          grace_seconds=60, overdue_at=at(11, 9, 11), state="ended"))  # a timer recorded late
        retention.set_rule(session, session.get(User, personas["admin"].id), "closed_cases", 1, now=NOW)
    with unit_of_work(engine) as session:
        logged = figures.casework_trend_table(session, casework.Scope(personas["worker"].team_id), NOVEMBER, LONDON)
        # October is worked out from the records (Ben's and Dan's contacts); November is its snapshot's own row.
        assert logged.rows[-2:] == [["October 2026", 1, 2, 1], ["November 2026", 2, 3, 3]]
    with unit_of_work(engine) as session:
        assert retention.apply(session, NOW)["closed_cases"] == 1  # Dan, closed on 25 November, is deleted
        assert session.get(Person, ids["dan"]) is None
        trend = figures.casework_trend_table(session, casework.Scope(personas["worker"].team_id), NOVEMBER, LONDON)
        # Dan's contact is still counted (retention kept the number, not the record); November as snapshotted.
        assert trend.rows[-2:] == [["October 2026", 1, 2, 1], ["November 2026", 2, 3, 3]]
    body = supervisor_client.get("/figures?period=2026-11").get_data(as_text=True)
    assert "Snapshotted at the month's end, on 1 Dec 2026, 00:05" in body
    assert re.search(r'<th scope="row">New people</th><td><a [^>]+>2<', body)  # Ann and Dan, as kept
    assert re.search(r'<th scope="row">Closed</th><td><a [^>]+>1<', body)
    assert re.search(r'<th scope="row">Low risk: seen within 28 days</th><td><a [^>]+>1 of 1<', body)
    assert "Caseload, New people: 2 when snapshotted, 1 from the records now" in body
    assert re.search(r'<th scope="row">Home visits covered by a timer</th><td><a [^>]+>2 of 4 home visits \(50 %\)<',
                     body)
    assert ("Safety, Home visits covered by a timer: 2 of 4 home visits (50 %) when snapshotted, 3 of 4 home visits "
            "(75 %) from the records now") in body
    assert "Contact, Low risk: seen within 28 days: 1 of 1 when snapshotted, 0 of 0 from the records now" in body
