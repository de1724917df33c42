"""Team figures: a worker sees their own, a supervisor their team's, an admin any team's. Rules in
services/figures.py and services/casework_figures.py; the records behind a figure in
services/figures_behind.py."""
from flask import abort, make_response, request
from flask_login import current_user, login_required
from sqlmodel import select

from app import db
from app.console import bp
from app.forms import record_id
from app.models import Team
from app.models.types import utcnow
from app.services import casework_figures, figures, figures_behind
from app.services.access import NotFound
from app.web import audit, render, zone


def _scope() -> tuple[Team, list[Team], casework_figures.Scope]:
    """The team whose figures are shown, the teams the viewer may choose from, and the scope (a
    worker's: their own). Another team asked for by anyone but an admin is a 404."""
    db_session = db.session()
    wanted = record_id(request.args.get("team"))
    if current_user.role in ("supervisor", "worker") and current_user.team_id is not None:
        if request.args.get("team") and wanted != current_user.team_id:
            raise NotFound
        team = db_session.get(Team, current_user.team_id)
        worker = current_user.id if current_user.role == "worker" else None
        return team, [team], casework_figures.Scope(team.id, worker)
    if current_user.role != "admin":
        raise NotFound
    teams = list(db_session.exec(select(Team).order_by(Team.name)).all())
    chosen = next((t for t in teams if t.id == wanted), None) if wanted is not None else (teams[0] if teams else None)
    if chosen is None:
        raise NotFound
    return chosen, teams, casework_figures.Scope(chosen.id)


def _period():
    period = figures.parse(request.args.get("period") or request.args.get("month"),
                           utcnow().astimezone(zone()).date(), zone())
    if period is None:
        abort(404)
    return period


def _when(moment) -> str:
    return moment.astimezone(zone()).strftime("%-d %b %Y, %H:%M")


def _corrections(kept: list[figures.Table], scope, period) -> list[str]:
    """What the records say now where they differ from the snapshot (a correction came later)."""
    now_tables = {t.key: t for t in figures.period_tables(db.session(), scope, period, zone(), utcnow())}
    found = []
    for table in kept:
        current = now_tables.get(table.key)
        if current is None or table.key == "by_worker":  # open now: as it stood, not a correction
            continue
        for row, now_row in zip(table.rows, current.rows):
            if row[0] == now_row[0] and row[1:2] != now_row[1:2] and not str(row[0]).startswith("Open now"):
                found.append(f"{table.title}, {row[0]}: {row[1]} when snapshotted, {now_row[1]} from the records now")
    return found


@bp.get("/figures")
@login_required
def figures_page():
    team, teams, scope = _scope()
    period = _period()
    tables, snapshot = figures.tables(db.session(), scope, period, zone(), utcnow())
    corrections = _corrections(tables, scope, period) if snapshot else []
    return render("console/figures.html", team=team, teams=teams, period=period, scope=scope,
                  before=figures.previous(period, zone()), following=figures.following(period, zone()),
                  other=(figures.month(period.first_day, zone()) if period.is_quarter
                         else figures.quarter(period.first_day, zone())),
                  tables=tables, charts=figures.charts(tables, period, zone()),
                  snapshotted=_when(snapshot.taken_at) if snapshot else None, corrections=corrections)


@bp.get("/figures/records/<key>")
@login_required
def figure_records(key: str):
    """The records behind one figure, for the period: names only for the team's own staff."""
    team, _, scope = _scope()
    period = _period()
    found = figures_behind.behind(db.session(), key, scope, period, zone(), utcnow())
    if found is None:
        raise NotFound
    may_see = current_user.team_id == team.id
    audit("figures.records", record_type="team", record_id=team.id, detail=f"{key} {period.key}")
    db.session().commit()
    return render("console/figure_records.html", team=team, period=period, key=key, records=found, may_see=may_see,
                  title=figures_behind.title(key))


@bp.get("/figures/<name>.csv")
@login_required
def figures_csv(name: str):
    team, _, scope = _scope()
    period = _period()
    table = next((t for t in figures.tables(db.session(), scope, period, zone(), utcnow())[0] if t.key == name), None)
    if table is None:
        raise NotFound
    audit("figures.export", record_type="team", record_id=team.id, detail=f"{name} {period.key}")
    db.session().commit()
    response = make_response(figures.as_csv(table))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="fieldline-{name}-{period.key}-team-{team.id}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
