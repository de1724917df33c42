"""Taking outcome measures over real HTTP: scoring, prompts, declines, corrections that supersede,
team scoping, audit, the licence gate, and the person's chart, table and sentence."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, MeasureResponse
from app.models.types import utcnow
from tests.test_caseload import add_person


def take(client, person_id, instrument="phq9", values=(2,) * 9, **extra):
    form = {f"q{n}": str(v) for n, v in enumerate(values, 1) if v is not None}
    form.setdefault("answered", "alone")
    form.update(extra)
    return client.post_form(f"/people/{person_id}/measures/{instrument}/new", form)


def responses(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(MeasureResponse).order_by(MeasureResponse.id)).all()


def actions(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_a_phq9_is_scored_banded_and_kept_with_who_asked_and_how(worker_client, engine, personas):
    person_id = add_person(worker_client)
    answer = take(worker_client, person_id, values=(2, 2, 2, 2, 1, 1, 1, 1, 0), answered="with_help")
    assert answer.status_code == 303
    saved, = responses(engine)
    assert (saved.total, saved.band, saved.answered, saved.asked_by_id) == (12, "Moderate", "with_help",
                                                                           personas["worker"].id)
    assert saved.answers["q1"] == 2 and "q10" not in saved.answers
    page = worker_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "PHQ-9: 12 of 27" in page and "Moderate" in page and "Answered with help" in page
    assert "Ask about suicidal thoughts now" not in page
    assert {"measure.take", "measure.view"} <= set(actions(engine))


def test_item_9_above_zero_prompts_at_once_and_offers_the_crisis_referral(worker_client, engine):
    person_id = add_person(worker_client)
    form = worker_client.get(f"/people/{person_id}/measures/phq9/new").get_data(as_text=True)
    # On the form the prompt is there for the phone to show as soon as item 9 is answered above 0.
    assert "Ask about suicidal thoughts now" in form and 'class="choice choice--raises"' in form
    assert form.count("choice--raises") == 3
    answer = take(worker_client, person_id, values=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    page = worker_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Ask about suicidal thoughts now" in page
    assert f'href="/people/{person_id}/refer/mental_health">Start a crisis referral' in page


def test_an_unanswered_or_out_of_range_item_is_refused_beside_it_keeping_the_answers(worker_client, engine):
    person_id = add_person(worker_client)
    missing = take(worker_client, person_id, values=(3, 2, None, 1, 0, 0, 0, 0, 0))
    page = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert re.search(r'id="q3-error"><span class="sr-prefix">Error: </span>Choose an answer', page)
    assert 'name="q1" value="3" checked' in page and 'name="q2" value="2" checked' in page
    wrong = take(worker_client, person_id, values=(9, 0, 0, 0, 0, 0, 0, 0, 0))
    assert wrong.status_code == 422 and "not one of this question" in wrong.get_data(as_text=True)
    nonsense = take(worker_client, person_id, values=("x",) + (0,) * 8)
    assert nonsense.status_code == 422
    who = take(worker_client, person_id, answered="")
    assert who.status_code == 422 and "answered themselves or with help" in who.get_data(as_text=True)
    assert responses(engine) == []


def test_declined_needs_a_reason_and_is_recorded_without_a_score(worker_client, engine):
    person_id = add_person(worker_client)
    refused = take(worker_client, person_id, values=(), outcome="declined", declined_reason="")
    assert refused.status_code == 422 and "Say why the measure was not taken" in refused.get_data(as_text=True)
    assert take(worker_client, person_id, values=(), outcome="declined",
                declined_reason="Did not want to today.").status_code == 303
    saved, = responses(engine)
    assert saved.total is None and saved.declined_reason == "Did not want to today."
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Declined: Did not want to today." in page


def test_a_correction_supersedes_with_a_reason_and_supervisors_still_see_the_old(worker_client, supervisor_client,
                                                                                   engine):
    person_id = add_person(worker_client)
    first = take(worker_client, person_id, values=(3,) * 9).headers["Location"]
    first_id = int(first.rsplit("/", 1)[1])
    form = {f"q{n}": "1" for n in range(1, 10)} | {"answered": "alone"}
    no_reason = worker_client.post_form(f"/measures/{first_id}/correct", form)
    assert no_reason.status_code == 422 and "Say why the answers are being corrected" in no_reason.get_data(as_text=True)
    fixed = worker_client.post_form(f"/measures/{first_id}/correct", form | {"correction_reason": "Misheard item 1-9."})
    assert fixed.status_code == 303
    old, new = responses(engine)
    assert (old.total, new.total, new.supersedes_id, new.taken_at) == (27, 9, old.id, old.taken_at)
    # The worker sees the latest; the old is a 404 for them and readable by a supervisor.
    assert worker_client.get(first).status_code == 404
    assert "earlier version" in supervisor_client.get(first).get_data(as_text=True)
    person_page = worker_client.get(f"/people/{person_id}/measures").get_data(as_text=True)
    assert "27 of 27" not in person_page and "9 of 27" in person_page
    assert "Corrected later" in supervisor_client.get(f"/people/{person_id}/measures").get_data(as_text=True)
    again = worker_client.post_form(f"/measures/{first_id}/correct", form | {"correction_reason": "Again"})
    assert again.status_code == 404  # only the latest version can be corrected
    with pytest.raises(DatabaseError), unit_of_work(engine) as session:
        session.exec(text("UPDATE measure_response SET total = 0"))
    assert "measure.correct" in actions(engine)


def test_another_team_gets_404_everywhere(worker_client, other_worker_client, engine):
    person_id = add_person(worker_client)
    response_id = int(take(worker_client, person_id).headers["Location"].rsplit("/", 1)[1])
    for path in (f"/people/{person_id}/measures", f"/people/{person_id}/measures/phq9/new",
                 f"/measures/{response_id}", f"/measures/{response_id}/correct"):
        assert other_worker_client.get(path).status_code == 404, path
    token = other_worker_client.csrf_token("/")
    assert other_worker_client.post(f"/people/{person_id}/measures/phq9/new",
                                    data={"csrf_token": token, "q1": "1"}).status_code == 404
    assert other_worker_client.post(f"/measures/{response_id}/correct",
                                    data={"csrf_token": token, "q1": "1"}).status_code == 404
    assert len(responses(engine)) == 1


def test_swemwbs_waits_for_an_admin_to_record_the_licence(worker_client, admin_client, engine):
    person_id = add_person(worker_client)
    assert "SWEMWBS" not in worker_client.get(f"/people/{person_id}/measures").get_data(as_text=True)
    assert worker_client.get(f"/people/{person_id}/measures/swemwbs/new").status_code == 404
    assert worker_client.get("/admin/licences").status_code == 404
    no_note = admin_client.post_form("/admin/licences", {"licence": "wemwbs", "held": "yes", "note": ""})
    assert no_note.status_code == 422 and "Say which licence it is" in no_note.get_data(as_text=True)
    assert admin_client.post_form("/admin/licences", {"licence": "wemwbs", "held": "yes",
                                                       "note": "Warwick licence 1234"}).status_code == 303
    assert "SWEMWBS" in worker_client.get(f"/people/{person_id}/measures").get_data(as_text=True)
    assert take(worker_client, person_id, "swemwbs", values=(3,) * 7).status_code == 303
    assert responses(engine)[-1].total == 19.25
    admin_client.post_form("/admin/licences", {"licence": "wemwbs", "held": "no", "note": ""})
    assert worker_client.get(f"/people/{person_id}/measures/swemwbs/new").status_code == 404
    assert "licence.record" in actions(engine)


def test_core10_shows_its_copyright_line_wherever_it_is(worker_client, engine):
    person_id = add_person(worker_client)
    line = "© CORE System Trust: https://www.coresystemtrust.org.uk/copyright.pdf"
    assert line in worker_client.get(f"/people/{person_id}/measures/core10/new").get_data(as_text=True)
    shown = take(worker_client, person_id, "core10", values=(0, 4, 4, 0, 0, 0, 0, 0, 0, 0)).headers["Location"]
    assert line in worker_client.get(shown).get_data(as_text=True)
    assert line in worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert line in worker_client.get(f"/people/{person_id}/measures").get_data(as_text=True)


def test_the_persons_page_has_the_chart_table_and_sentence_and_no_inline_style(worker_client, engine):
    person_id = add_person(worker_client)
    take(worker_client, person_id, values=(2, 2, 2, 2, 2, 2, 2, 2, 2))  # 18
    take(worker_client, person_id, values=(1, 1, 1, 1, 1, 1, 1, 1, 1))  # 9
    with unit_of_work(engine) as session:  # the first was taken in March (an append-only table: a new row)
        first = session.exec(select(MeasureResponse).order_by(MeasureResponse.id)).first()
        march = utcnow().replace(month=3, day=10) if utcnow().month > 3 else utcnow() - timedelta(days=30)
        session.add(MeasureResponse(**{**first.model_dump(exclude={"id"}), "taken_at": march}))
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    card = page[page.index("Outcome measures"):page.index("<h2>Timeline</h2>")]
    assert "PHQ-9 down from 18 to 9 since" in card and ": reliable improvement" in card
    assert card.count("<circle") == 3 and card.count('class="chart__threshold"') >= 1
    assert "<table>" in card and card.count("of 27</td>") == 3
    assert "style=" not in page and "<script>" not in page
    assert "Take a measure" in card
    assert page.count("PHQ-9: ") >= 3  # each on the timeline too


def test_a_teams_own_scale_is_taken_like_any_measure_and_labelled_not_validated(worker_client, supervisor_client,
                                                                                other_worker_client, engine,
                                                                                personas):
    from tests.test_plans import add_goal

    assert worker_client.get("/team/scales").status_code == 404
    refused = supervisor_client.post_form("/team/scales", {"name": "Housing", "question": "", "low_label": "not at all",
                                                           "high_label": "completely", "higher_is_worse": "better"})
    assert refused.status_code == 422 and "Write the question as it will be asked." in refused.get_data(as_text=True)
    assert supervisor_client.post_form("/team/scales", {
        "name": "Housing", "question": "How settled is your housing?", "low_label": "not at all settled",
        "high_label": "completely settled", "higher_is_worse": "better"}).status_code == 303
    person_id = add_person(worker_client)
    listing = worker_client.get(f"/people/{person_id}/measures").get_data(as_text=True)
    key = re.search(r"/measures/(team-\d+)/new", listing).group(1)
    form = worker_client.get(f"/people/{person_id}/measures/{key}/new").get_data(as_text=True)
    assert "Not validated" in form and "How settled is your housing?" in form
    assert other_worker_client.get(f"/people/{person_id}/measures/{key}/new").status_code == 404
    assert take(worker_client, person_id, key, values=(3,)).status_code == 303
    assert take(worker_client, person_id, key, values=(11,)).status_code == 422
    assert take(worker_client, person_id, key, values=(8,)).status_code == 303
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Housing up from 3 to 8 since" in page and "not a validated scale, so no reliable-change threshold" in page
    # A plan's goal measured by the scale: due at the plan's start, on Today and on the plan.
    planned = add_person(worker_client, name="Pat Planned", key_worker_id=str(personas["worker"].id))
    assert add_goal(worker_client, planned, measure=key, how_we_know="Housing at 8 or more").status_code == 303
    assert "Measure due at the start</span> <a" in worker_client.get("/").get_data(as_text=True)
    assert f"/people/{planned}/measures/{key}/new\">Take Housing" in worker_client.get(
        f"/people/{planned}").get_data(as_text=True)
    scale_id = key.split("-")[1]
    assert supervisor_client.post_form(f"/team/scales/{scale_id}/retire", {}, page="/team/scales").status_code == 303
    assert worker_client.get(f"/people/{person_id}/measures/{key}/new").status_code == 404
    # Retired: not a thing to do today, and the plan says why instead of linking to a form that is gone.
    assert "Measure due" not in worker_client.get("/").get_data(as_text=True)
    plan_card = worker_client.get(f"/people/{planned}").get_data(as_text=True)
    assert f"/measures/{key}/new" not in plan_card
    assert "Housing <span class=\"muted\">· no longer offered (retired, or its licence has lapsed)" in plan_card
    assert "Housing up from 3 to 8" in worker_client.get(f"/people/{person_id}/measures").get_data(as_text=True)


@pytest.mark.parametrize("made_at, kept", [("2026-01-01T10:00", False), ("not a time", False), ("", False),
                                           ("HOURS_AGO", True), ("NEXT_WEEK", False)])
def test_an_offline_measure_is_dated_when_the_phone_says_it_was_asked_if_that_is_believable(worker_client, engine,
                                                                                            made_at, kept):
    person_id = add_person(worker_client)
    asked = utcnow() - timedelta(hours=3)
    stamp = {"HOURS_AGO": asked.isoformat().replace("+00:00", "Z"),
             "NEXT_WEEK": (utcnow() + timedelta(days=7)).isoformat()}.get(made_at, made_at)
    assert take(worker_client, person_id, made_at=stamp).status_code == 303
    saved, = responses(engine)
    assert (abs((saved.taken_at - asked).total_seconds()) < 1) is kept
    assert abs((saved.taken_at - utcnow()).total_seconds()) < 60 or kept


def test_the_demo_has_two_years_of_measures_that_read_as_a_story(app, engine, client):
    from app.services.demo import seed_demo

    with unit_of_work(engine) as session:
        seed_demo(session, password="demo password 1")
    assert client.login("worker@example.org", "demo password 1").status_code == 303
    with unit_of_work(engine) as session:
        by_person = {}
        for response in session.exec(select(MeasureResponse)).all():
            by_person.setdefault(response.person_id, []).append(response)
    assert sorted(len(v) for v in by_person.values()) == [9, 9, 9, 9]
    spans = [max(r.taken_at for r in v) - min(r.taken_at for r in v) for v in by_person.values()]
    assert all(timedelta(days=700) < span < timedelta(days=760) for span in spans)
    sentences = " ".join(client.get(f"/people/{person_id}").get_data(as_text=True) for person_id in by_person)
    assert "PHQ-9 down from 19 to 6 since" in sentences and "reliable improvement" in sentences
    assert "PHQ-9 up from 8 to 16 since" in sentences and "reliable deterioration" in sentences
    assert "GAD-7 down from 9 to 8 since" in sentences and "no reliable change" in sentences


def test_an_unchanged_chart_is_not_drawn_again_and_a_new_score_redraws_it(monkeypatch):
    """The person's page draws each instrument's chart from its scores: the same scores give the
    same SVG, kept from the last time; a new or corrected score draws it afresh."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app.instruments import INSTRUMENTS
    from app.measures import charts

    drawn = []
    real = charts._draw
    monkeypatch.setattr(charts, "_draw", lambda *args: drawn.append(args) or real(*args))
    zone, phq9 = ZoneInfo("Europe/London"), INSTRUMENTS["phq9"]
    scores = [MeasureResponse(id=900001 + n, team_id=1, person_id=1, instrument="phq9", instrument_version="1",
                              asked_by_id=1, taken_at=datetime(2026, 1 + n, 1, tzinfo=UTC), total=total)
              for n, total in enumerate((18, 12))]
    first = charts.chart(phq9, scores, zone, "chart-phq9")
    assert charts.chart(phq9, list(scores), zone, "chart-phq9") == first and len(drawn) == 1
    scores.append(MeasureResponse(id=900003, team_id=1, person_id=1, instrument="phq9", instrument_version="1",
                                  asked_by_id=1, taken_at=datetime(2026, 3, 1, tzinfo=UTC), total=6))
    assert charts.chart(phq9, scores, zone, "chart-phq9") != first and len(drawn) == 2
