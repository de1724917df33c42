"""Team figures against a hand count on seeded data; the CSV is the page's table."""
import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.db import unit_of_work
from app.models import Alert, AuditEvent, User, Visit
from app.services import casework_figures as casework
from app.services import figures
from tests.test_allocation import person

LONDON = ZoneInfo("Europe/London")
VISITS = '<th scope="row">Visits started</th><td>{}</td><td>{}</td>'
LINK = r'<a href="/figures/records/[^"]+">([^<]*)<span class="sr-only">[^<]*</span></a>'  # a figure's link, unwrapped


def visit(session, persona, started_at):
    session.add(Visit(worker_id=persona.id, team_id=persona.team_id, place="x", started_at=started_at,
                      planned_end_at=started_at, due_at=started_at, grace_seconds=60, overdue_at=started_at,
                      state="ended"))


def alert(session, persona, kind, raised_at, ack_minutes=None, outcome=None):
    acknowledged = raised_at + timedelta(minutes=ack_minutes) if ack_minutes is not None else None
    session.add(Alert(team_id=persona.team_id, worker_id=persona.id, kind=kind, raised_at=raised_at,
                      state="resolved" if outcome else ("acknowledged" if acknowledged else "open"),
                      acknowledged_at=acknowledged, resolved_at=acknowledged if outcome else None, outcome=outcome))


def seed(engine, personas):
    worker, other = personas["worker"], personas["other_worker"]
    nov = datetime(2026, 11, 10, 12, tzinfo=UTC)
    with unit_of_work(engine) as session:
        for moment in (nov, nov + timedelta(days=5), datetime(2026, 11, 30, 23, 59, tzinfo=UTC)):
            visit(session, worker, moment)
        visit(session, worker, datetime(2026, 9, 30, 23, 30, tzinfo=UTC))  # 00:30 on 1 October in London
        visit(session, other, nov)  # another team's
        alert(session, worker, "missed_check_in", nov, ack_minutes=2, outcome="false_alarm")
        alert(session, worker, "missed_check_in", nov + timedelta(days=1), ack_minutes=10, outcome="incident")
        alert(session, worker, "panic", nov + timedelta(days=2), ack_minutes=4)
        alert(session, worker, "duress", nov + timedelta(days=3))  # never acknowledged
        alert(session, worker, "panic", datetime(2026, 10, 5, tzinfo=UTC), ack_minutes=1, outcome="false_alarm")


def test_safety_and_caseload_figures_match_a_hand_count(engine, personas):
    seed(engine, personas)
    person(engine, personas["supervisor"], "Hi", "high")
    person(engine, personas["supervisor"], "Lo", "low", personas["worker"].id)
    november = figures.month(date(2026, 11, 1), LONDON)
    october = figures.previous(november, LONDON)
    assert october.label == "October 2026" and figures.previous(figures.month(date(2026, 1, 1), LONDON), LONDON).key == "2025-12"
    with unit_of_work(engine) as session:
        team_id = personas["worker"].team_id
        assert figures.visits_started(session, team_id, november) == 3
        assert figures.visits_started(session, team_id, october) == 1
        found = figures.alert_figures(session, team_id, november)
        # By hand: acknowledged after 2, 10 and 4 minutes -> median 4, p90 (nearest rank, 3rd of 3) 10;
        # resolved 2, one a false alarm.
        assert found.by_kind == {"missed_check_in": 2, "panic": 1, "duress": 1, "wrong_pins": 0}
        assert (found.median_ack_minutes, found.p90_ack_minutes) == (4, 10)
        assert (found.resolved, found.false_alarms, found.false_alarm_share) == (2, 1, 0.5)
        assert figures.alert_figures(session, team_id, october).false_alarm_share == 1
        safety_table = figures.safety_table(session, team_id, november, october, LONDON)
        caseload = casework.caseload_table(session, casework.Scope(team_id), november, october, LONDON)
    assert ["Median minutes to acknowledge", "4.0", "1.0"] in safety_table.rows
    assert ["Resolved as false alarms", "50 %", "100 %"] in safety_table.rows
    assert ["Open now: High risk", 1, ""] in caseload.rows and ["Open now: Low risk", 1, ""] in caseload.rows
    with unit_of_work(engine) as session:
        trend = figures.trend_table(session, personas["worker"].team_id, november, LONDON)
    assert trend.rows[0][0] == "December 2025" and trend.rows[-2:] == [["October 2026", 1, 1], ["November 2026", 3, 4]]
    assert trend.summary.startswith("4 visits started and 5 alerts raised in the 12 months to November 2026")


def test_the_csv_is_the_pages_table_and_the_export_is_audited(supervisor_client, worker_client, admin_client, engine,
                                                               personas):
    seed(engine, personas)
    with unit_of_work(engine) as session:
        session.get(User, personas["worker2"].id).name = "=HYPERLINK(1)"
    page = supervisor_client.get("/figures?month=2026-11")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and VISITS.format(3, 1) in re.sub(LINK, r"\1", body)
    assert "<title id=\"trend-chart-title\">Visits started per month, last 12 months</title>" in body
    download = supervisor_client.get("/figures/safety.csv?month=2026-11")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["Figure", "November 2026", "October 2026"] and rows[1] == ["Visits started", "3", "1"]
    with unit_of_work(engine) as session:
        table = figures.safety_table(session, personas["worker"].team_id, figures.month(date(2026, 11, 1), LONDON),
                                     figures.month(date(2026, 10, 1), LONDON), LONDON)
        assert rows[1:] == [[str(cell) for cell in row] for row in table.rows]
        assert session.exec(AuditEvent.__table__.select().where(AuditEvent.action == "figures.export")).first()
    load = list(csv.reader(io.StringIO(supervisor_client.get("/figures/load.csv").get_data(as_text=True))))
    assert ["'=HYPERLINK(1)", "0", "0", "0 %", "Within capacity"] in load  # never a formula
    assert supervisor_client.get("/figures?month=soon").status_code == 404
    for figure, count in (("visits", 3), ("alerts.missed_check_in", 2), ("alerts.panic", 1), ("alerts.wrong_pins", 0)):
        assert f'href="/figures/records/{figure}?period=2026-11&amp;team=' in body  # the figure links to its list
        listed = supervisor_client.get(f"/figures/records/{figure}?period=2026-11").get_data(as_text=True)
        assert listed.count('class="list__item"') == count, figure
    other = admin_client.get(f"/figures?month=2026-11&team={personas['other_worker'].team_id}").get_data(as_text=True)
    assert "Figures: Team B" in other and VISITS.format(1, 0) in re.sub(LINK, r"\1", other)


def test_a_correction_after_the_month_end_snapshot_leaves_the_figure_unchanged_and_says_so(
        supervisor_client, engine, personas):
    seed(engine, personas)
    december = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    with unit_of_work(engine) as session:
        assert figures.take_snapshots(session, december, LONDON) == 2  # both teams, for November
        assert figures.take_snapshots(session, december, LONDON) == 0  # once
    with unit_of_work(engine) as session:  # a late correction: one more visit recorded in November
        visit(session, personas["worker"], datetime(2026, 11, 20, tzinfo=UTC))
    body = supervisor_client.get("/figures?month=2026-11").get_data(as_text=True)
    assert VISITS.format(3, 1) in re.sub(LINK, r"\1", body)
    assert "Snapshotted at the month's end, on 1 Dec 2026, 00:05" in body
    with unit_of_work(engine) as session:
        assert figures.visits_started(session, personas["worker"].team_id, figures.month(date(2026, 11, 1), LONDON)) == 4
