"""The supervisor's console: the duty rota. Rules live in services/rota.py."""
from flask import flash, url_for
from flask_login import current_user, login_required

from app import db
from app.console import bp, presenters
from app.console.forms import ChangeForm, ShiftForm
from app.models import RotaChange, RotaShift, Team
from app.models.types import utcnow
from app.services import ValidationError, people, rota, safety
from app.services.access import NotFound, require_team
from app.services.appointments import to_utc
from app.web import audit, render, see_other, show_errors, zone

def _team() -> Team:
    require_team(current_user)
    return db.session().get(Team, current_user.team_id)


def _supervisor_team() -> Team:
    if current_user.role != "supervisor":
        raise NotFound
    return _team()


def _choices(team: Team):
    return [("", "Choose a supervisor")] + [(str(u.id), u.name) for u in safety.team_supervisors(db.session(), team.id)]


def _page(team: Team, shift_form: ShiftForm | None = None, change_form: ChangeForm | None = None, status: int = 200):
    db_session, now = db.session(), utcnow()
    names = {u.id: u.name for u in people.team_workers(db_session, team.id)}
    on_duty = rota.covers(db_session, [team.id], now)[team.id]
    ahead = rota.cover_ahead(db_session, team, now)
    forms = {}
    if current_user.role == "supervisor":
        forms["shift_form"] = shift_form or ShiftForm(formdata=None)
        forms["change_form"] = change_form or ChangeForm(formdata=None)
        for form in forms.values():
            form.supervisor_id.choices = _choices(team)
    return render("console/rota.html", status=status, team=team,
                  on_duty=names.get(on_duty.supervisor_id) if on_duty.supervisor_id else None,
                  on_duty_source=presenters.SOURCE_WORDS[on_duty.source],
                  warning=ahead.warning, gaps=presenters.gap_lines(ahead.gaps, names, zone()),
                  shifts=presenters.shift_rows(rota.team_shifts(db_session, team.id), names),
                  changes=presenters.change_rows(rota.coming_changes(db_session, team.id, now), names, zone()),
                  **forms)


@bp.get("/rota")
@login_required
def rota_page():
    return _page(_team())


@bp.post("/rota/shifts")
@login_required
def add_shifts():
    team = _supervisor_team()
    form = ShiftForm()
    form.supervisor_id.choices = _choices(team)
    if form.validate():
        try:
            shifts = rota.add_shifts(db.session(), team, current_user, supervisor_id=form.supervisor_id.data,
                                     weekdays=form.weekdays.data or [], starts=form.starts.data, ends=form.ends.data,
                                     zone=zone().key, now=utcnow())
        except ValidationError as error:
            db.session().rollback()
            show_errors(form, error.errors)
        else:
            for shift in shifts:
                audit("rota.shift_add", record_type="rota_shift", record_id=shift.id)
            db.session().commit()
            flash("Shift added to the rota.")
            return see_other(url_for("console.rota_page"))
    return _page(team, shift_form=form, status=422)


@bp.post("/rota/changes")
@login_required
def add_change():
    team = _supervisor_team()
    form = ChangeForm()
    form.supervisor_id.choices = _choices(team)
    if form.validate():
        try:
            change = rota.add_change(
                db.session(), team, current_user, supervisor_id=form.supervisor_id.data,
                starts_at=to_utc(form.starts_at.data, zone()) if form.starts_at.data else None,
                ends_at=to_utc(form.ends_at.data, zone()) if form.ends_at.data else None, now=utcnow())
        except ValidationError as error:
            db.session().rollback()
            show_errors(form, error.errors)
        else:
            audit("rota.change_add", record_type="rota_change", record_id=change.id)
            db.session().commit()
            flash("One-off change added to the rota.")
            return see_other(url_for("console.rota_page"))
    return _page(team, change_form=form, status=422)


@bp.post("/rota/<kind>/<int:item_id>/remove")
@login_required
def remove(kind: str, item_id: int):
    team = _supervisor_team()
    model = {"shifts": RotaShift, "changes": RotaChange}.get(kind)
    if model is None:
        raise NotFound
    item = rota.remove(db.session(), team, current_user, model, item_id, now=utcnow())
    audit(f"rota.{'shift' if model is RotaShift else 'change'}_remove", record_type=model.__tablename__,
          record_id=item.id)
    db.session().commit()
    flash("Removed from the rota.")
    return see_other(url_for("console.rota_page"))
