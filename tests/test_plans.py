"""A person's plan over real HTTP: goals by area, steps with owners, the person's agreement, reviews
making versions, the comparison of versions, exit with its PDF, team scoping and the audit trail;
and the plan's rules as plain functions of stored state and `now`."""
import re
from datetime import UTC, date, timedelta

import pytest
from pypdf import PdfReader
from io import BytesIO
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, GoalNote, Plan, PlanAgreement, PlanGoal, PlanStep, PlanVersion
from app.models.types import utcnow
from app.services import plans
from tests.test_caseload import add_person, log


def add_goal(client, person_id, **data):
    form = {"area": "accommodation", "wants": "Somewhere of my own", "how_we_know": "A tenancy signed",
            "target": "6", **data}
    return client.post_form(f"/people/{person_id}/plan/goals/new", form)


def add_step(client, goal_id, **data):
    form = {"what": "Fill in the housing form", "owner": "person", **data}
    return client.post_form(f"/goals/{goal_id}/steps/new", form)


def rows(engine, model):
    with unit_of_work(engine) as session:
        return session.exec(select(model).order_by(model.id)).all()


def goal_with_step(client, engine):
    person_id = add_person(client)
    assert add_goal(client, person_id).status_code == 303
    goal, = rows(engine, PlanGoal)
    assert add_step(client, goal.id).status_code == 303
    return person_id, goal, rows(engine, PlanStep)[0]


def test_a_goal_starts_the_plan_and_each_change_is_a_version_kept_as_it_stood(worker_client, engine, personas):
    person_id = add_person(worker_client)
    answer = add_goal(worker_client, person_id, related_areas=["finance", "accommodation"])
    goal, = rows(engine, PlanGoal)
    assert answer.headers["Location"] == f"/goals/{goal.id}/steps/new"
    plan, = rows(engine, Plan)
    today = date.today()
    # Medium risk: a review 3 months on; the target 6 months on; the goal's own area is not "related".
    assert plan.review_due_on == plans.add_months(today, 3) and goal.target_on == plans.add_months(today, 6)
    assert goal.related_areas == ["finance"]
    add_step(worker_client, goal.id, owner="service", owner_name="Shelter", what="Ask about the deposit scheme")
    add_step(worker_client, goal.id, owner="worker", what="Ring the council")
    page = worker_client.get(f"/people/{person_id}/plan").get_data(as_text=True)
    assert "<h2>Accommodation</h2>" in page and "Somewhere of my own" in page and "A tenancy signed" in page
    assert "Another service: Shelter" in page and "Wren Walker" in page and "Finance, benefits and ID" in page
    assert [v.number for v in rows(engine, PlanVersion)] == [1, 2, 3]
    first = worker_client.get(f"/people/{person_id}/plan/versions/1").get_data(as_text=True)
    assert "Somewhere of my own" in first and "Ring the council" not in first and "Not the latest" in first


def test_every_bad_input_is_refused_beside_its_field_keeping_what_was_typed(worker_client, engine):
    person_id = add_person(worker_client)
    refused = add_goal(worker_client, person_id, area="", wants="", target="date",
                       target_on=(date.today() - timedelta(days=1)).isoformat(), how_we_know="Keeps the flat")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="area-error"><span class="sr-prefix">Error: </span>Choose the area', page)
    assert 'id="wants-error"' in page and "The target date is in the past" in page and "Keeps the flat</textarea>" in page
    assert rows(engine, Plan) == []
    add_goal(worker_client, person_id)
    goal, = rows(engine, PlanGoal)
    no_owner = add_step(worker_client, goal.id, owner="", what="See the GP")
    assert no_owner.status_code == 422 and 'id="owner-error"' in no_owner.get_data(as_text=True)
    assert "See the GP</textarea>" in no_owner.get_data(as_text=True)
    unnamed = add_step(worker_client, goal.id, owner="service")
    assert unnamed.status_code == 422 and "Name the service" in unnamed.get_data(as_text=True)
    agreement = worker_client.post_form(f"/people/{person_id}/plan/agreement", {"answer": "does_not_agree"})
    assert agreement.status_code == 422 and 'id="why-error"' in agreement.get_data(as_text=True)
    assert rows(engine, PlanStep) == [] and rows(engine, PlanAgreement) == []


def test_the_person_agrees_to_the_whole_plan_or_to_one_change_recorded_with_who_and_when(worker_client, engine, personas):
    person_id, goal, _ = goal_with_step(worker_client, engine)
    assert worker_client.post_form(f"/people/{person_id}/plan/agreement",
                                   {"answer": "agrees", "comment": "Yes, housing first"}).status_code == 303
    assert worker_client.post_form(f"/people/{person_id}/plan/agreement",
                                   {"answer": "does_not_agree", "version": "2", "why": "Not ready to fill forms"}
                                   ).status_code == 303
    whole, change = rows(engine, PlanAgreement)
    assert (whole.version, whole.answer, whole.comment, whole.recorded_by_id) == (2, "agrees", "Yes, housing first",
                                                                                personas["worker"].id)
    assert (change.version, change.why) == (2, "Not ready to fill forms")
    page = worker_client.get(f"/people/{person_id}/plan").get_data(as_text=True)
    assert "Does not agree to version 2" in page and "“Yes, housing first”" in page


def test_a_step_is_ticked_done_from_the_persons_page_once_however_often_it_is_sent(worker_client, engine):
    person_id, goal, step = goal_with_step(worker_client, engine)
    person_page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert f'action="/steps/{step.id}/done" class="inline-form" data-offline="Step done"' in person_page
    for _ in range(2):  # the outbox may send it again after a lost answer
        answer = worker_client.post_form(f"/steps/{step.id}/done", {"back": "person"}, page=f"/people/{person_id}")
        assert answer.status_code == 303 and answer.headers["Location"] == f"/people/{person_id}"
    assert rows(engine, PlanStep)[0].status == "done"
    assert [v.change for v in rows(engine, PlanVersion)][-1] == "Step “Fill in the housing form”: Done"
    assert len(rows(engine, PlanVersion)) == 3
    assert f'action="/steps/{step.id}/done"' not in worker_client.get(f"/people/{person_id}").get_data(as_text=True)


def test_a_review_records_progress_per_goal_makes_a_version_and_the_difference_is_shown(worker_client, engine):
    person_id, goal, step = goal_with_step(worker_client, engine)
    refused = worker_client.post_form(f"/people/{person_id}/plan/review", {})
    assert refused.status_code == 422 and f'id="progress-{goal.id}-error"' in refused.get_data(as_text=True)
    worker_client.post_form(f"/steps/{step.id}/status", {"status": "in_progress"}, page=f"/people/{person_id}/plan")
    answer = worker_client.post_form(f"/people/{person_id}/plan/review", {f"progress-{goal.id}": "Form half done"})
    assert answer.status_code == 303
    review = rows(engine, PlanVersion)[-1]
    assert (review.kind, review.number) == ("review", 4)
    note, = rows(engine, GoalNote)
    assert (note.kind, note.text) == ("review", "Form half done")
    compared = worker_client.get(f"/people/{person_id}/plan/compare?from=1&to=4").get_data(as_text=True)
    assert "Step added to “Somewhere of my own”: Fill in the housing form (The person, In progress)" in compared
    old = worker_client.get(f"/people/{person_id}/plan/versions/1")
    assert old.status_code == 200 and "Fill in the housing form" not in old.get_data(as_text=True)
    person_page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Plan reviewed" in person_page


def test_closing_asks_each_goals_outcome_and_a_relapse_plan_then_gives_the_summary_pdf(worker_client, engine):
    from tests.test_measures import take

    person_id, goal, _ = goal_with_step(worker_client, engine)
    take(worker_client, person_id, values=(2,) * 9)  # 18
    take(worker_client, person_id, values=(1,) * 9)  # 9
    assert worker_client.get(f"/people/{person_id}/plan/summary.pdf").status_code == 404  # only once closed
    refused = worker_client.post_form(f"/people/{person_id}/plan/close", {"what_helps": "Walking the dog"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'id="outcome-{goal.id}-error"' in page
    assert 'id="warning_signs-error"' in page and "Walking the dog</textarea>" in page
    answer = worker_client.post_form(f"/people/{person_id}/plan/close", {
        f"outcome-{goal.id}": "partly", f"note-{goal.id}": "On the list", "warning_signs": "Missing rent",
        "who_to_contact": "Housing officer", "what_helps": "Walking the dog"})
    assert answer.status_code == 303
    plan, = rows(engine, Plan)
    assert plan.status == "closed" and rows(engine, PlanGoal)[0].outcome == "partly"
    pdf = worker_client.get(f"/people/{person_id}/plan/summary.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Disposition"] == f'attachment; filename="plan-FL-{plan.id}.pdf"'
    words = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    assert "Partly achieved - On the list" in words and "Missing rent" in words
    assert re.search(r"PHQ-9: 18 \(.*\) to 9 \(.*\): reliable improvement", words)
    page = worker_client.get(f"/people/{person_id}/plan").get_data(as_text=True)
    assert re.search(r"PHQ-9: 18 \(.*\) to 9 \(.*\): reliable improvement", page)
    assert worker_client.post_form(f"/goals/{goal.id}/steps/new", {"what": "x", "owner": "person"},
                                   page=f"/people/{person_id}/plan").status_code == 422


def test_another_teams_plan_goal_step_and_versions_are_not_found(worker_client, other_worker_client, engine):
    person_id, goal, step = goal_with_step(worker_client, engine)
    token = other_worker_client.csrf_token("/")
    for url in (f"/people/{person_id}/plan", f"/people/{person_id}/plan/versions/1", f"/goals/{goal.id}/edit",
                f"/goals/{goal.id}/steps/new", f"/people/{person_id}/plan/compare?from=1&to=2",
                f"/people/{person_id}/plan/goals/new"):
        assert other_worker_client.get(url).status_code == 404, url
    assert other_worker_client.post(f"/steps/{step.id}/done", data={"csrf_token": token}).status_code == 404
    assert rows(engine, PlanStep)[0].status == "not_started"


def test_views_and_changes_are_audited_and_the_history_is_append_only(worker_client, engine):
    person_id, goal, step = goal_with_step(worker_client, engine)
    worker_client.get(f"/people/{person_id}/plan")
    with unit_of_work(engine) as session:
        done = set(session.exec(select(AuditEvent.action)).all())
    assert {"plan.goal_add", "plan.step_add", "plan.view"} <= done
    with pytest.raises(DatabaseError):
        with unit_of_work(engine) as session:
            session.execute(text("UPDATE plan_version SET change = 'rewritten'"))


@pytest.mark.parametrize("risk, today, due", [
    ("low", date(2026, 11, 30), date(2027, 2, 28)),  # end of month is kept inside the month
    ("medium", date(2026, 1, 15), date(2026, 4, 15)),
    ("high", date(2026, 1, 15), date(2026, 2, 26)),
    ("very_high", date(2026, 1, 15), date(2026, 2, 12)),
])
def test_a_review_falls_due_in_3_months_sooner_for_high_risk(risk, today, due):
    assert plans.next_review(risk, today) == due


@pytest.mark.parametrize("due_in_days, state", [(-1, "overdue"), (0, "due"), (14, "due"), (15, None)])
def test_a_review_is_due_two_weeks_ahead_and_overdue_after(due_in_days, state):
    today = date(2026, 6, 1)
    plan = Plan(team_id=1, person_id=1, created_by_id=1, review_due_on=today + timedelta(days=due_in_days))
    assert plans.review_state(plan, today) == state
    plan.status = "closed"
    assert plans.review_state(plan, today) is None


def test_log_contact_says_which_goals_it_worked_on_and_each_gets_a_progress_note(worker_client, engine, personas):
    person_id, goal, _ = goal_with_step(worker_client, engine)
    other_person = add_person(worker_client, name="Sam Second", key_worker_id=str(personas["worker"].id))
    add_goal(worker_client, other_person, wants="Back to college")
    other_goal = rows(engine, PlanGoal)[-1]
    form = worker_client.get(f"/contacts/new?person={person_id}").get_data(as_text=True)
    assert f'name="worked_on" value="{goal.id}"' in form and "Somewhere of my own" in form
    # The copy kept for no signal names nobody: each listed person's goals come under their name
    # (shown by CSS once they are chosen).
    offline = worker_client.get("/contacts/new").get_data(as_text=True)
    assert re.search(r'name="person_id" value="%d"[^>]*>\s*<span><strong>Sam Second</strong>.*?</label>\s*<fieldset class="worked-on">\s*<legend>Worked on with Sam Second '
                     r'\(optional\)</legend>\s*<label class="check"><input type="checkbox" name="worked_on" value="%d">'
                     % (other_person, other_goal.id), offline, re.S)
    # A goal of someone else's plan (a stale offline form, or a forged one) adds nothing.
    answer = log(worker_client, person_id=str(person_id), notes="Filled in half the form",
                 worked_on=[str(goal.id), str(other_goal.id)])
    assert answer.status_code == 303
    note, = rows(engine, GoalNote)
    assert (note.goal_id, note.kind, note.text) == (goal.id, "contact", "Filled in half the form")
    assert note.contact_id is not None
    page = worker_client.get(f"/people/{person_id}/plan").get_data(as_text=True)
    assert f'href="/contacts/{note.contact_id}">contact</a>:</span> Filled in half the form' in page


def _shift_plan(engine, **values):
    with unit_of_work(engine) as session:
        plan = session.exec(select(Plan)).one()
        for key, value in values.items():
            setattr(plan, key, value)
        session.add(plan)


def test_today_shows_my_reviews_due_and_the_measures_a_plan_needs_at_its_start_and_reviews(worker_client, engine,
                                                                                            personas):
    from tests.test_measures import take

    person_id = add_person(worker_client, key_worker_id=str(personas["worker"].id))
    assert add_goal(worker_client, person_id, measure="phq9", how_we_know="PHQ-9 below 10").status_code == 303
    today_page = worker_client.get("/").get_data(as_text=True)
    assert "Measure due at the start" in today_page and "PHQ-9" in today_page
    assert "Review overdue" not in today_page
    week_ago = (utcnow() - timedelta(days=7)).isoformat()
    assert take(worker_client, person_id, values=(1,) * 9, made_at=week_ago).status_code == 303
    assert "Measure due" not in worker_client.get("/").get_data(as_text=True)
    # Three months on: the plan began long before the last score, and its review is ten days away.
    _shift_plan(engine, created_at=utcnow() - timedelta(days=100), review_due_on=date.today() + timedelta(days=10))
    today_page = worker_client.get("/").get_data(as_text=True)
    assert "Measure due for the review" in today_page and "Review due" in today_page
    _shift_plan(engine, review_due_on=date.today() - timedelta(days=1))
    assert "Review overdue" in worker_client.get("/").get_data(as_text=True)


def test_the_persons_page_asks_the_same_number_of_queries_however_long_the_plan(worker_client, engine):
    from tests.test_person_record import counted

    short, goal, _ = goal_with_step(worker_client, engine)
    log(worker_client, person_id=str(short), worked_on=[str(goal.id)])
    worker_client.post_form(f"/people/{short}/plan/review", {f"progress-{goal.id}": "Started"})
    long = add_person(worker_client, name="Lee Long")
    for number in range(5):
        add_goal(worker_client, long, wants=f"Goal number {number}", area=["accommodation", "health"][number % 2])
        goal_id = rows(engine, PlanGoal)[-1].id
        for step in range(3):
            add_step(worker_client, goal_id, what=f"Step {number}.{step}")
        log(worker_client, person_id=str(long), worked_on=[str(goal_id)])
    goals = [g.id for g in rows(engine, PlanGoal) if g.wants.startswith("Goal number")]
    worker_client.post_form(f"/people/{long}/plan/review", {f"progress-{g}": "Going well" for g in goals})
    worker_client.get(f"/people/{short}")
    with counted(engine) as few:
        assert worker_client.get(f"/people/{short}").status_code == 200
    with counted(engine) as many:
        page = worker_client.get(f"/people/{long}").get_data(as_text=True)
    assert page.count('data-offline="Step done"') == 15 and "Plan reviewed" in page
    assert len(many) == len(few), (len(few), len(many))


def test_a_goal_achieved_or_no_longer_needed_says_why_and_the_change_is_a_version(worker_client, engine):
    person_id, goal, _ = goal_with_step(worker_client, engine)
    form = {"area": "accommodation", "wants": "Somewhere of my own", "how_we_know": "A tenancy signed",
            "target": "date", "target_on": goal.target_on.isoformat(), "status": "achieved"}
    refused = worker_client.post_form(f"/goals/{goal.id}/edit", form)
    assert refused.status_code == 422 and 'id="status_reason-error"' in refused.get_data(as_text=True)
    assert worker_client.post_form(f"/goals/{goal.id}/edit", {**form, "status_reason": "Keys on Friday"}
                                   ).status_code == 303
    latest = rows(engine, PlanVersion)[-1]
    assert latest.snapshot["goals"][0]["status"] == "achieved" and rows(engine, PlanGoal)[0].status_reason == "Keys on Friday"
    compared = worker_client.get(f"/people/{person_id}/plan/compare?from=2&to={latest.number}").get_data(as_text=True)
    assert "Goal “Somewhere of my own”: Active → Achieved (Keys on Friday)" in compared
    # Back to active: the reason went with "achieved" and is not shown as the active goal's.
    assert worker_client.post_form(f"/goals/{goal.id}/edit", {**form, "status": "active",
                                                              "status_reason": "Keys on Friday"}).status_code == 303
    assert rows(engine, PlanGoal)[0].status_reason is None


def test_a_goal_added_as_achieved_or_no_longer_needed_says_why(worker_client, engine, personas):
    person_id = add_person(worker_client, key_worker_id=str(personas["worker"].id))
    refused = add_goal(worker_client, person_id, status="not_needed", wants="Typed and kept")
    assert refused.status_code == 422 and 'id="status_reason-error"' in refused.get_data(as_text=True)
    assert "Typed and kept" in refused.get_data(as_text=True) and rows(engine, PlanGoal) == []
    assert add_goal(worker_client, person_id, status="not_needed", status_reason="Moved in with her sister"
                    ).status_code == 303
    assert rows(engine, PlanGoal)[0].status_reason == "Moved in with her sister"


def test_a_version_or_goal_no_plan_has_is_not_found(worker_client, engine):
    person_id, goal, _ = goal_with_step(worker_client, engine)
    for big in ("99999", "x"):
        for url in (f"/people/{person_id}/plan/versions/{big}", f"/people/{person_id}/plan/compare?from=1&to={big}",
                    f"/goals/{big}/edit", f"/goals/{big}/steps/new"):
            assert worker_client.get(url).status_code == 404, url


def _plan_on(today, *, began_days_ago, closed_days_ago=None, review_in_days=60):
    from datetime import UTC, datetime
    moment = datetime.combine(today, datetime.min.time(), UTC)
    return Plan(team_id=1, person_id=1, created_by_id=1, review_due_on=today + timedelta(days=review_in_days),
                created_at=moment - timedelta(days=began_days_ago), status="open" if closed_days_ago is None else "closed",
                closed_at=None if closed_days_ago is None else moment - timedelta(days=closed_days_ago))


@pytest.mark.parametrize("began, closed, review_in, last_taken, closing, why", [
    (10, None, 60, None, False, "start"),
    (10, None, 60, 35, False, None),  # a score from the month before the plan is its start score
    (10, None, 60, 45, False, "start"),
    (100, None, 10, 60, False, "review"),
    (100, None, 10, 3, False, None),  # taken since two weeks before the review fell due
    (100, None, 60, 20, True, "exit"),  # closing is started: a score from the last two weeks counts
    (100, None, 60, 10, True, None),
    (100, 5, 60, 25, False, "exit"),  # closed five days ago, nothing since two weeks before it
    (100, 5, 60, 2, False, None),  # the exit score was taken after closing
    (100, 31, 60, None, False, None),  # a month after closing the chance has passed
    (9, None, 60, 9, True, "exit"),  # a short plan: the score it began with is its start, not its exit
    (9, None, 60, 8, True, None),
])
def test_a_measure_falls_due_at_the_start_with_each_review_and_at_exit(began, closed, review_in, last_taken, closing,
                                                                       why):
    from app.services import plan_due

    today = date(2026, 6, 15)
    plan = _plan_on(today, began_days_ago=began, closed_days_ago=closed, review_in_days=review_in)
    last = today - timedelta(days=last_taken) if last_taken is not None else None
    assert plan_due.why_due(plan, last, today, UTC, closing_on=today if closing else None) == why


def test_at_exit_the_instruments_in_use_are_the_goals_and_those_taken_during_the_plan():
    from app.services import plan_due

    today = date(2026, 6, 15)
    plan = _plan_on(today, began_days_ago=100)
    goals = [PlanGoal(plan_id=1, team_id=1, area="health", wants="w", how_we_know="h", target_on=today, measure="phq9",
                      status="achieved"),
             PlanGoal(plan_id=1, team_id=1, area="health", wants="w", how_we_know="h", target_on=today, measure="core10",
                      status="not_needed")]
    taken = {"gad7": today - timedelta(days=90), "swemwbs": today - timedelta(days=200)}  # in the plan; long before
    assert plan_due.due_for_plan(plan, goals, taken, today, UTC) == []  # running: an achieved goal needs no review score
    assert plan_due.due_for_plan(plan, goals, taken, today, UTC, closing_on=today) == [("gad7", "exit"), ("phq9", "exit")]


def test_what_is_due_goes_by_the_organisations_calendar_days_not_utcs():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from app.models import MeasureResponse
    from app.services import plan_due

    london, today = ZoneInfo("Europe/London"), date(2026, 6, 20)
    plan = Plan(team_id=1, person_id=1, created_by_id=1, review_due_on=today + timedelta(days=60), status="open",
                created_at=datetime(2026, 6, 15, 12, 0, tzinfo=UTC))
    goals = [PlanGoal(plan_id=1, team_id=1, area="health", wants="w", how_we_know="h", target_on=today, measure="phq9",
                      status="active")]
    # Taken at 00:30 on 16 May in London (23:30 on the 15th in UTC): 30 days before the plan's first
    # day, so it is the plan's start score; by UTC's days it was 31 days before and the start was due.
    score = MeasureResponse(team_id=1, person_id=1, instrument="phq9", instrument_version="1", asked_by_id=1,
                            taken_at=datetime(2026, 5, 15, 23, 30, tzinfo=UTC), total=12, band="moderate")
    assert plan_due.last_taken([score], london) == {"phq9": date(2026, 5, 16)}
    assert plan_due.due_for_plan(plan, goals, plan_due.last_taken([score], london), today, london) == []
    assert plan_due.due_for_plan(plan, goals, plan_due.last_taken([score], UTC), today, UTC) == [("phq9", "start")]


def test_an_exit_score_taken_after_closing_counts_and_the_start_score_may_come_just_before_the_plan():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app.instruments import INSTRUMENTS
    from app.models import MeasureResponse
    from app.services.plan_documents import distances

    today = date(2026, 6, 15)
    plan = _plan_on(today, began_days_ago=100, closed_days_ago=40)
    moment = datetime.combine(today, datetime.min.time(), UTC)

    def score(days_ago, total):
        return MeasureResponse(team_id=1, person_id=1, instrument="phq9", instrument_version="1", asked_by_id=1,
                               taken_at=moment - timedelta(days=days_ago), total=total, band="x")
    # Start 20 days before the plan; exit 12 days after closing; a score from a later plan does not count.
    found, = distances(plan, [score(120, 18), score(28, 9), score(1, 20)], {"phq9": INSTRUMENTS["phq9"]},
                       ZoneInfo("Europe/London"))
    assert (found.first, found.latest, found.verdict) == (18, 9, "reliable improvement")


def test_closing_a_plan_makes_its_measures_due_at_exit_until_one_is_taken(worker_client, engine, personas):
    from app.models import MeasureResponse, Person
    from tests.test_measures import take

    person_id = add_person(worker_client, key_worker_id=str(personas["worker"].id))
    assert add_goal(worker_client, person_id, measure="phq9", how_we_know="PHQ-9 below 10").status_code == 303
    goal, = rows(engine, PlanGoal)
    _shift_plan(engine, created_at=utcnow() - timedelta(days=55))
    with unit_of_work(engine) as session:  # a PHQ-9 of 18 at the plan's start, two months ago
        session.add(MeasureResponse(team_id=goal.team_id, person_id=person_id, instrument="phq9", instrument_version="1",
                                    asked_by_id=personas["worker"].id, taken_at=utcnow() - timedelta(days=60),
                                    answers={f"q{n}": 2 for n in range(1, 10)}, total=18, band="moderately_severe"))
    assert "Measure due" not in worker_client.get("/").get_data(as_text=True)
    close_page = worker_client.get(f"/people/{person_id}/plan/close").get_data(as_text=True)
    assert "Measure due at exit" in close_page and f'href="/people/{person_id}/measures/phq9/new">Take PHQ-9' in close_page
    assert worker_client.post_form(f"/people/{person_id}/plan/close", {
        f"outcome-{goal.id}": "achieved", "warning_signs": "Missing rent", "who_to_contact": "Housing officer"},
    ).status_code == 303
    today_page = worker_client.get("/").get_data(as_text=True)
    assert "Measure due at exit" in today_page and "PHQ-9" in today_page
    assert "Measure due at exit" in worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    with unit_of_work(engine) as session:  # a closed case has nothing due
        session.get(Person, person_id).status = "closed"
    assert "Measure due" not in worker_client.get("/").get_data(as_text=True)
    assert "Measure due" not in worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    with unit_of_work(engine) as session:
        session.get(Person, person_id).status = "open"
    assert take(worker_client, person_id, values=(1,) * 9).status_code == 303  # 9, after closing
    assert "Measure due" not in worker_client.get("/").get_data(as_text=True)
    assert "Measure due" not in worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    page = worker_client.get(f"/people/{person_id}/plan").get_data(as_text=True)
    assert re.search(r"PHQ-9: 18 \(.*\) to 9 \(.*\): reliable improvement", page)
