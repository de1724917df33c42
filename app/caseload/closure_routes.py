"""Closing a person's case with a reason, and reopening it (the rules: services/case_closure.py)."""
from flask import flash, request, url_for
from flask_login import current_user, login_required

from app import db
from app.caseload import bp
from app.caseload.forms import CloseCaseForm, ReopenCaseForm
from app.models.types import utcnow
from app.services import ValidationError
from app.services import appointments
from app.services import case_closure as service
from app.services import people
from app.web import audit, render, see_other, show_errors, zone


def _upcoming_rows(items: list[service.Upcoming]) -> list[dict]:
    return [{"kind": appointments.KIND_LABELS[item.appointment.kind],
             "when": item.next.starts_local.strftime("%a %-d %b %Y, %H:%M"),
             "repeats": appointments.REPEAT_LABELS[item.appointment.repeat] if item.repeats else None}
            for item in items[:service.LISTED]]


@bp.route("/people/<int:person_id>/close", methods=["GET", "POST"])
@login_required
def close_case(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    service.require_closer(current_user)
    if person.status == "closed":
        return see_other(url_for("caseload.person", person_id=person.id))
    form = CloseCaseForm()
    now = utcnow()
    if request.method == "POST" and form.validate():
        try:
            event = service.close(db_session, current_user, person, form.reason.data or "", form.note.data,
                                  now=now, zone=zone())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("person.close", record_type="person", record_id=person.id,
                  detail=f"reason={event.reason} appointments_cancelled={event.cancelled_appointments}")
            db_session.commit()
            cancelled = event.cancelled_appointments
            flash("Case closed." + (f" {cancelled} future appointment{'s' if cancelled != 1 else ''} cancelled."
                                    if cancelled else ""))
            return see_other(url_for("caseload.person", person_id=person.id))
    upcoming = service.upcoming(db_session, person, now, zone())
    return render("caseload/close.html", person=person, form=form, open_plan=service.has_open_plan(db_session, person),
                  upcoming=_upcoming_rows(upcoming), upcoming_count=len(upcoming),
                  status=422 if request.method == "POST" else 200)


@bp.route("/people/<int:person_id>/reopen", methods=["GET", "POST"])
@login_required
def reopen_case(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    service.require_closer(current_user)
    if person.status != "closed":
        return see_other(url_for("caseload.person", person_id=person.id))
    form = ReopenCaseForm()
    if request.method == "POST" and form.validate():
        try:
            service.reopen(db_session, current_user, person, form.note.data, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("person.reopen", record_type="person", record_id=person.id)
            db_session.commit()
            flash("Case reopened. Book any appointments again: those cancelled at the close stay cancelled.")
            return see_other(url_for("caseload.person", person_id=person.id))
    return render("caseload/reopen.html", person=person, form=form, status=422 if request.method == "POST" else 200)
