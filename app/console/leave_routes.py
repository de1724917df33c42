"""Leave and cover, for supervisors. Rules live in services/leave.py."""
from flask import flash, url_for
from flask_login import current_user, login_required

from app import db
from app.console import bp
from app.console.forms import LeaveForm
from app.console.routes import _supervisor_team
from app.models.types import utcnow
from app.services import ValidationError, leave, people
from app.web import audit, render, see_other, show_errors, zone


def _page(team, form: LeaveForm | None = None, status: int = 200):
    db_session, now = db.session(), utcnow()
    members = people.team_workers(db_session, team.id)
    names = {u.id: u.name for u in members}
    form = form or LeaveForm(formdata=None)
    form.user_id.choices = form.cover_id.choices = [("", "Choose someone")] + [(str(u.id), u.name) for u in members]
    rows = [{"id": item.id, "who": names.get(item.user_id, "?"), "cover": names.get(item.cover_id, "?"),
             "dates": f"{item.starts_on:%a %-d %b %Y} to {item.ends_on:%a %-d %b %Y}",
             "now": item.starts_at <= now} for item in leave.team_leave(db_session, team.id, now)]
    return render("console/leave.html", status=status, team=team, form=form, rows=rows)


@bp.get("/team/leave")
@login_required
def leave_page():
    return _page(_supervisor_team())


@bp.post("/team/leave")
@login_required
def add_leave():
    team = _supervisor_team()
    form = LeaveForm()
    if form.validate():
        try:
            item = leave.add_leave(db.session(), team.id, current_user, user_id=form.user_id.data,
                                   cover_id=form.cover_id.data, starts_on=form.starts_on.data,
                                   ends_on=form.ends_on.data, zone=zone(), now=utcnow())
        except ValidationError as error:
            db.session().rollback()
            show_errors(form, error.errors)
        else:
            audit("leave.add", record_type="leave", record_id=item.id)
            db.session().commit()
            flash("Leave marked. Their alerts and reminders go to the cover meanwhile.")
            return see_other(url_for("console.leave_page"))
    return _page(team, form, status=422)


@bp.post("/team/leave/<int:leave_id>/remove")
@login_required
def remove_leave(leave_id: int):
    team = _supervisor_team()
    item = leave.remove_leave(db.session(), team.id, current_user, leave_id, now=utcnow())
    audit("leave.remove", record_type="leave", record_id=item.id)
    db.session().commit()
    flash("Leave removed.")
    return see_other(url_for("console.leave_page"))
