"""The manager's outcome figures: counted by one function from the records, checked against a hand
count of a seeded team (another team's records, declined, corrected and out-of-range responses
included to be left out), and the CSV shows exactly what the page shows."""
import csv
import io
import re
from datetime import date, timedelta

from app.db import unit_of_work
from app.models import MeasureResponse, Person, Plan, PlanGoal
from app.models.types import utcnow

TODAY = date.today()


def _seed(engine, personas):
    now = utcnow()
    worker, other = personas["worker"], personas["other_worker"]
    with unit_of_work(engine) as session:
        def person(name, team_id):
            found = Person(team_id=team_id, name=name)
            session.add(found)
            session.flush()
            return found

        def scores(who, instrument, *totals, team_id=None, days_ago=(60, 5), by=worker.id):
            made = []
            for total, ago in zip(totals, days_ago):
                row = MeasureResponse(team_id=team_id or who.team_id, person_id=who.id, instrument=instrument,
                                      instrument_version="1", asked_by_id=by, taken_at=now - timedelta(days=ago),
                                      total=total)
                session.add(row)
                session.flush()
                made.append(row)
            return made

        a, b, c, d, e = (person(n, worker.team_id) for n in ("Ann", "Ben", "Cal", "Dee", "Eve"))
        scores(a, "phq9", 18, 9)    # down 9: reliable improvement (6)
        scores(b, "phq9", 10, 12)   # up 2: no reliable change
        scores(c, "phq9", 5, 15)    # up 10: reliable deterioration
        scores(d, "phq9", 20)       # one score: not counted
        session.add(MeasureResponse(team_id=d.team_id, person_id=d.id, instrument="phq9", instrument_version="1",
                                    asked_by_id=worker.id, taken_at=now - timedelta(days=3),
                                    declined_reason="Not today"))  # declined: not a score
        _, latest = scores(e, "gad7", 15, 10)  # down 5 (reliable, 4) ... but corrected to 14: no change
        session.add(MeasureResponse(team_id=e.team_id, person_id=e.id, instrument="gad7", instrument_version="1",
                                    asked_by_id=worker.id, taken_at=latest.taken_at, total=14,
                                    supersedes_id=latest.id, correction_reason="Misheard item 3"))
        scores(a, "gad7", 20, 2, days_ago=(800, 700))  # before the range
        elsewhere = person("Zed", other.team_id)
        scores(elsewhere, "phq9", 25, 1, by=other.id)  # another team's
        plans = [Plan(team_id=a.team_id, person_id=a.id, review_due_on=TODAY + timedelta(days=30), created_by_id=worker.id,
                      created_at=now - timedelta(days=90)),
                 Plan(team_id=c.team_id, person_id=c.id, review_due_on=TODAY - timedelta(days=2), created_by_id=worker.id,
                      created_at=now - timedelta(days=120)),
                 Plan(team_id=b.team_id, person_id=b.id, review_due_on=TODAY, created_by_id=worker.id,
                      created_at=now - timedelta(days=200), status="closed", closed_at=now - timedelta(days=10)),
                 Plan(team_id=b.team_id, person_id=b.id, review_due_on=TODAY, created_by_id=worker.id,
                      created_at=now - timedelta(days=900), status="closed", closed_at=now - timedelta(days=800)),
                 Plan(team_id=elsewhere.team_id, person_id=elsewhere.id, review_due_on=TODAY - timedelta(days=9),
                      created_by_id=other.id, created_at=now - timedelta(days=30))]
        session.add_all(plans)
        session.flush()
        for plan, outcome in ((plans[2], "achieved"), (plans[2], "partly"), (plans[2], "partly"),
                              (plans[3], "not_achieved"), (plans[4], "achieved")):
            session.add(PlanGoal(plan_id=plan.id, team_id=plan.team_id, area="health", wants="w", how_we_know="h",
                                 target_on=TODAY, outcome=outcome))


HAND_COUNT = {
    ("Plans", "People with an active plan"): 3,  # Ann's, Cal's, and Ben's closed in the range
    ("Plans", "Reviews overdue today"): 1,  # Cal's
    ("Goals at exit", "Achieved"): 1,
    ("Goals at exit", "Partly achieved"): 2,
    ("Goals at exit", "Not achieved"): 0,  # closed before the range
    ("PHQ-9", "People with a first and a latest score"): 3,
    ("PHQ-9", "Reliable improvement"): 1,
    ("PHQ-9", "No reliable change"): 1,
    ("PHQ-9", "Reliable deterioration"): 1,
    ("GAD-7", "People with a first and a latest score"): 1,
    ("GAD-7", "Reliable improvement"): 0,
    ("GAD-7", "No reliable change"): 1,
    ("GAD-7", "Reliable deterioration"): 0,
}


def test_the_outcome_figures_match_a_hand_count_and_the_csv_matches_the_page(supervisor_client, engine, personas):
    _seed(engine, personas)
    start = (TODAY - timedelta(days=365)).isoformat()
    page = supervisor_client.get(f"/team/outcomes?start={start}&end={TODAY.isoformat()}").get_data(as_text=True)
    cells = re.findall(r'<tr><td>([^<]+)</td><td>([^<]+)</td><td>(?:<a href="([^"]+)"[^>]*>)?(\d+)(?:</a>)?</td></tr>', page)
    shown = {(g, f): int(v) for g, f, _, v in cells}
    assert {k: shown[k] for k in HAND_COUNT} == HAND_COUNT
    # Every figure links to the records behind it, and the list has exactly as many as the figure.
    for group, figure, link, value in cells:
        assert bool(link) == (int(value) > 0), (group, figure)
        if link:
            listed = supervisor_client.get(link.replace("&amp;", "&")).get_data(as_text=True)
            rows = re.findall(r'<li class="list__item"><a href="/people/\d+">([^<]+)</a>', listed)
            assert len(rows) == int(value), (group, figure, rows)
            assert "Zed" not in rows  # another team's records never
    behind = lambda key: re.findall(r'<a href="/people/\d+">([^<]+)</a>', supervisor_client.get(
        f"/team/outcomes/records?figure={key}&start={start}&end={TODAY.isoformat()}").get_data(as_text=True))
    assert behind("active_plans") == ["Ann", "Ben", "Cal"] and behind("phq9.deteriorated") == ["Cal"]
    assert behind("goals_partly") == ["Ben", "Ben"] and behind("gad7.no_change") == ["Eve"]
    assert supervisor_client.get(f"/team/outcomes/records?figure=nonsense&start={start}").status_code == 404
    assert "Cal" in page and "Zed" not in page  # the overdue review behind the count
    exported = supervisor_client.get(f"/team/outcomes.csv?start={start}&end={TODAY.isoformat()}")
    assert exported.headers["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {(r["group"], r["figure"]): int(r["value"]) for r in table} == shown
    assert {r["from"] for r in table} == {start}


def test_the_figures_are_a_supervisors_and_a_range_the_wrong_way_round_is_refused(supervisor_client, worker_client):
    assert worker_client.get("/team/outcomes").status_code == 404
    assert worker_client.get("/team/outcomes.csv").status_code == 404
    assert worker_client.get("/team/outcomes/records?figure=active_plans").status_code == 404
    refused = supervisor_client.get(f"/team/outcomes?start={TODAY.isoformat()}&end={(TODAY - timedelta(days=1)).isoformat()}")
    assert refused.status_code == 422 and "The start must be on or before the end" in refused.get_data(as_text=True)
    assert supervisor_client.get("/team/outcomes?start=nonsense").status_code == 422
    assert supervisor_client.get("/team/outcomes").status_code == 200  # the last 12 months


def test_the_team_board_loads_the_teams_plan_reviews_due_and_overdue(supervisor_client, engine, personas):
    _seed(engine, personas)
    assert 'hx-get="/team/plans/reviews"' in supervisor_client.get("/").get_data(as_text=True)
    card = supervisor_client.get("/team/plans/reviews", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Review overdue</span> <a" in card and ">Cal</a>" in card and "Zed" not in card and "Ann" not in card


def test_the_demo_has_plans_and_its_figures_match_a_hand_count(app, engine, client):
    from app.services.demo import seed_demo

    with unit_of_work(engine) as session:
        seed_demo(session, password="demo password 1")
    assert client.login("supervisor@example.org", "demo password 1").status_code == 303
    start = (TODAY - timedelta(days=800)).isoformat()
    table = list(csv.DictReader(io.StringIO(client.get(f"/team/outcomes.csv?start={start}").get_data(as_text=True))))
    figures = {(r["group"], r["figure"]): int(r["value"]) for r in table}
    # Four plans (one closed two days ago, its one goal partly achieved); reviewed 110 days ago, so
    # the three open ones are overdue. Trajectories: PHQ-9 19 -> 6 and 8 -> 16, GAD-7 9 -> 8, CORE-10 24 -> 10.
    assert figures[("Plans", "People with an active plan")] == 4
    assert figures[("Plans", "Reviews overdue today")] == 3
    assert figures[("Goals at exit", "Partly achieved")] == 1
    assert [figures[("PHQ-9", k)] for k in ("People with a first and a latest score", "Reliable improvement",
                                             "No reliable change", "Reliable deterioration")] == [2, 1, 0, 1]
    assert figures[("GAD-7", "No reliable change")] == 1 and figures[("CORE-10", "Reliable improvement")] == 1
