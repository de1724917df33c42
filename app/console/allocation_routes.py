"""Allocation and weighted load, for supervisors. Rules live in services/workload.py."""
from flask import flash, url_for
from flask_login import current_user, login_required

from app import db
from app.console import bp
from app.console.forms import AllocateForm, CapacityForm, WeightingForm
from app.console.routes import _supervisor_team
from app.models.types import utcnow
from app.services import ValidationError, people, workload
from app.services.access import NotFound
from app.web import audit, render, see_other, show_errors, zone


def _leave_words(load: workload.WorkerLoad) -> str | None:
    if load.away:
        return f"Away until {load.away.ends_on:%a %-d %b}"
    if load.leave_ahead:
        return f"Away {load.leave_ahead.starts_on:%a %-d %b} to {load.leave_ahead.ends_on:%a %-d %b}"
    return None


def load_row(load: workload.WorkerLoad, adding: int | None = None) -> dict:
    """A worker's load in words: now, and after taking a case of `adding` points."""
    words, tone = workload.load_words(load.percent)
    row = {"id": load.worker.id, "name": load.worker.name, "people": load.people, "points": load.points,
           "capacity": load.capacity_percent, "percent": load.percent, "words": words, "tone": tone,
           "alerts": load.open_alerts, "away": _leave_words(load)}
    if adding is not None:
        after = load.percent_with(adding)
        row.update(after=after, after_points=load.points + adding, after_words=workload.load_words(after)[0],
                   after_tone=workload.load_words(after)[1])
    return row


@bp.get("/allocate")
@login_required
def unallocated():
    team = _supervisor_team()
    db_session, now = db.session(), utcnow()
    waiting = workload.unallocated(db_session, team.id, now)
    return render("console/unallocated.html", team=team,
                  waiting=[{"id": u.person.id, "name": u.person.name, "reason": u.reason,
                            "risk": people.RISK_LABELS[u.person.risk_level]} for u in waiting],
                  loads=[load_row(load) for load in workload.team_loads(db_session, team.id, now, zone())])


def _allocate_page(person, form: AllocateForm, status: int = 200):
    db_session, now = db.session(), utcnow()
    weights = workload.weighting(db_session, person.team_id)
    adding = workload.person_points(person, weights, workload.extra_points(db_session, {person.id}, now, zone()))
    loads = workload.team_loads(db_session, person.team_id, now, zone())
    rows = []
    for load in loads:
        # "After" is that worker's load if they are the one chosen: the others' with this person,
        # the key worker's as it is (the person is already counted in it).
        current = load.worker.id == person.key_worker_id
        row = load_row(load, 0 if current else adding)
        row["current"] = current
        rows.append(row)
    return render("console/allocate.html", status=status, person=person, form=form, rows=rows, adding=adding,
                  risk=people.RISK_LABELS[person.risk_level])


@bp.route("/people/<int:person_id>/allocate", methods=["GET", "POST"])
@login_required
def allocate(person_id: int):
    _supervisor_team()
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    form = AllocateForm()
    if not form.is_submitted():
        return _allocate_page(person, AllocateForm(formdata=None))
    if form.validate():
        try:
            allocation = workload.allocate(db_session, person, current_user, worker_id=form.worker_id.data,
                                           note=form.note.data, now=utcnow())
        except ValidationError as error:
            db_session.rollback()
            show_errors(form, error.errors)
        else:
            audit("person.allocate", record_type="person", record_id=person.id, detail=f"allocation {allocation.id}")
            db_session.commit()
            flash("Allocated.")
            return see_other(url_for("console.unallocated"))
    return _allocate_page(person, form, status=422)


@bp.route("/team/load", methods=["GET", "POST"])
@login_required
def load_settings():
    team = _supervisor_team()
    db_session, now = db.session(), utcnow()
    weights = workload.weighting(db_session, team.id)
    form = WeightingForm(prefix="w", data={f"points_{k}": v for k, v in weights.points.items()}
                         | {"full_time_points": weights.full_time_points})
    if form.is_submitted() and form.validate():
        try:
            workload.set_weighting(db_session, team.id, current_user,
                                   {level: form[f"points_{level}"].data for level in workload.DEFAULT_POINTS},
                                   form.full_time_points.data, now=now)
        except ValidationError as error:
            db_session.rollback()
            show_errors(form, error.errors)
        else:
            audit("team.load_update", record_type="team", record_id=team.id)
            db_session.commit()
            flash("Weighting saved.")
            return see_other(url_for("console.load_settings"))
    return _load_page(team, form, CapacityForm(prefix="c", formdata=None),
                      status=422 if form.is_submitted() else 200)


def _load_page(team, form, capacity_form, status=200):
    db_session = db.session()
    loads = workload.team_loads(db_session, team.id, utcnow(), zone())
    capacity_form.user_id.choices = [("", "Choose a worker")] + [(str(l.worker.id), l.worker.name) for l in loads]
    return render("console/load.html", status=status, team=team, form=form, capacity_form=capacity_form,
                  loads=[load_row(load) for load in loads])


@bp.post("/team/load/capacity")
@login_required
def set_capacity():
    team = _supervisor_team()
    db_session = db.session()
    form = CapacityForm(prefix="c")
    weights = workload.weighting(db_session, team.id)
    weighting_form = WeightingForm(prefix="w", formdata=None, data={f"points_{k}": v for k, v in weights.points.items()}
                                   | {"full_time_points": weights.full_time_points})
    if form.validate():
        try:
            workload.set_capacity(db_session, team.id, current_user, form.user_id.data, form.percent.data, now=utcnow())
        except NotFound:
            show_errors(form, {"user_id": "Choose a worker in your team."})
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("user.capacity", record_type="user", record_id=form.user_id.data, detail=f"{form.percent.data}%")
            db_session.commit()
            flash("Capacity saved.")
            return see_other(url_for("console.load_settings"))
    return _load_page(team, weighting_form, form, status=422)
