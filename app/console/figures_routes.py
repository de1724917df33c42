"""Team figures for supervisors (their team) and admins (any team). Rules in services/figures.py."""
from flask import abort, make_response, request
from flask_login import current_user, login_required
from sqlmodel import select

from app import db
from app.console import bp
from app.forms import record_id
from app.models import Team
from app.models.types import utcnow
from app.services import figures
from app.services.access import NotFound
from app.web import audit, render, zone


def _scope() -> tuple[Team, list[Team]]:
    """The team whose figures are shown, and the teams the viewer may choose from."""
    db_session = db.session()
    if current_user.role == "supervisor" and current_user.team_id is not None:
        team = db_session.get(Team, current_user.team_id)
        return team, [team]
    if current_user.role != "admin":
        raise NotFound
    teams = list(db_session.exec(select(Team).order_by(Team.name)).all())
    wanted = record_id(request.args.get("team"))
    chosen = next((t for t in teams if t.id == wanted), None) if wanted is not None else (teams[0] if teams else None)
    if chosen is None:
        raise NotFound
    return chosen, teams


def _period():
    first = figures.parse_month(request.args.get("month"), utcnow().astimezone(zone()).date())
    if first is None:
        abort(404)
    return figures.month(first, zone())


@bp.get("/figures")
@login_required
def figures_page():
    team, teams = _scope()
    period = _period()
    before = figures.previous(period, zone())
    following = figures.month(period.ends_at.astimezone(zone()).date(), zone())
    tables, snapshot = figures.tables(db.session(), team.id, period, zone(), utcnow())
    charts = {"trend": figures.trend_chart(tables[-1], figures.months_to(period, zone()))}
    return render("console/figures.html", team=team, teams=teams, period=period, before=before, following=following,
                  tables=tables, charts=charts,
                  snapshotted=snapshot.taken_at.astimezone(zone()).strftime("%-d %b %Y, %H:%M") if snapshot else None)


@bp.get("/figures/<name>.csv")
@login_required
def figures_csv(name: str):
    team, _ = _scope()
    period = _period()
    table = next((t for t in figures.tables(db.session(), team.id, period, zone(), utcnow())[0] if t.key == name), None)
    if table is None:
        raise NotFound
    audit("figures.export", record_type="team", record_id=team.id, detail=f"{name} {period.key}")
    db.session().commit()
    response = make_response(figures.as_csv(table))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="fieldline-{name}-{period.key}-team-{team.id}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
