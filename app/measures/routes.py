"""Outcome measures with a person: the list (with charts), taking one, declining, correcting,
and the admin's record of the organisation's licences."""
from datetime import datetime

from flask import flash, request, url_for
from flask_login import current_user, login_required

from app import db
from app.measures import bp, presenters
from app.measures.charts import sections
from app.measures.forms import CorrectionForm, LicenceForm, MeasureForm, RetireForm, ScaleForm, answers_from
from app.models.types import utcnow
from app.services import ValidationError, people
from app.services import measures as service
from app.services.access import NotFound, require_admin
from app.web import audit, render, see_other, show_errors, zone


def _asked_at(form) -> datetime | None:
    """When the phone says the measure was asked (an ISO moment with its offset), if it says so."""
    try:
        moment = datetime.fromisoformat((form.made_at.data or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@bp.get("/people/<int:person_id>/measures")
@login_required
def index(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    audit("measure.list", record_type="person", record_id=person.id)
    db_session.commit()
    responses = service.responses_for(db_session, person, include_superseded=current_user.role == "supervisor")
    current = service.responses_for(db_session, person)
    instruments = service.instruments_for(db_session, person.team_id, responses)
    return render("measures/index.html", person=person, offered=service.offered(db_session, current_user),
                  sections=sections(current, responses, zone(), instruments))


@bp.route("/people/<int:person_id>/measures/<instrument_key>/new", methods=["GET", "POST"])
@login_required
def take(person_id: int, instrument_key: str):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    instrument = service.instrument_for(db_session, current_user, instrument_key)
    form = MeasureForm()
    answers, errors = {}, {}
    if request.method == "POST" and form.validate():
        answers = answers_from(request.form, instrument)
        now = utcnow()
        try:
            if request.form.get("outcome") == "declined":
                response = service.decline(db_session, current_user, person, instrument, form.declined_reason.data,
                                           _asked_at(form), now=now)
                audit("measure.decline", record_type="measure", record_id=response.id, detail=instrument.key)
            else:
                taken = service.Taken(answers, form.answered.data or "", _asked_at(form))
                response, _ = service.take(db_session, current_user, person, instrument, taken, now=now)
                audit("measure.take", record_type="measure", record_id=response.id, detail=instrument.key)
        except ValidationError as error:
            errors = {k: v for k, v in error.errors.items() if k in answers}
            show_errors(form, {k: v for k, v in error.errors.items() if k not in answers})
        else:
            db_session.commit()
            flash(f"{instrument.name} saved." if response.total is not None else f"{instrument.name} marked as declined.")
            return see_other(url_for("measures.show", response_id=response.id))
    return render("measures/take.html", person=person, instrument=instrument, form=form,
                  items=presenters.items(instrument, answers, errors), item_errors=errors,
                  steps=request.args.get("layout") == "steps",
                  status=422 if request.method == "POST" else 200)


@bp.get("/measures/<int:response_id>")
@login_required
def show(response_id: int):
    db_session = db.session()
    response = service.get_response(db_session, current_user, response_id)
    person = people.get_person(db_session, current_user, response.person_id)
    audit("measure.view", record_type="measure", record_id=response.id)
    db_session.commit()
    instrument = service.instrument_of(db_session, response)
    superseded = bool(service.superseded_ids(db_session, [response.id]))
    earlier = service.get_response(db_session, current_user, response.supersedes_id) \
        if response.supersedes_id and current_user.role == "supervisor" else None
    return render("measures/show.html", person=person, instrument=instrument, response=response,
                  row=presenters.row(instrument, response, zone()), when=presenters.local(response.taken_at, zone()),
                  lines=presenters.answer_lines(instrument, response),
                  prompts=presenters.prompts_of(instrument, response), superseded=superseded,
                  asked_by=service.name_of(db_session, response.asked_by_id), earlier=earlier)


@bp.route("/measures/<int:response_id>/correct", methods=["GET", "POST"])
@login_required
def correct(response_id: int):
    db_session = db.session()
    original = service.get_response(db_session, current_user, response_id)
    person = people.get_person(db_session, current_user, original.person_id)
    instrument = service.instrument_of(db_session, original)
    form = CorrectionForm()
    answers, errors = dict(original.answers), {}
    if request.method == "GET":
        form.answered.data = original.answered
    if request.method == "POST" and form.validate():
        answers = answers_from(request.form, instrument)
        try:
            response, _ = service.correct(db_session, current_user, original,
                                          service.Taken(answers, form.answered.data or ""),
                                          form.correction_reason.data, now=utcnow())
        except ValidationError as error:
            errors = {k: v for k, v in error.errors.items() if k in answers}
            show_errors(form, {k: v for k, v in error.errors.items() if k not in answers})
        else:
            audit("measure.correct", record_type="measure", record_id=response.id, detail=f"supersedes={original.id}")
            db_session.commit()
            flash("Correction saved. The earlier answers are kept for supervisors.")
            return see_other(url_for("measures.show", response_id=response.id))
    return render("measures/correct.html", person=person, instrument=instrument, form=form, original=original,
                  items=presenters.items(instrument, answers, errors), item_errors=errors,
                  status=422 if request.method == "POST" else 200)


@bp.route("/admin/licences", methods=["GET", "POST"])
@login_required
def licences():
    require_admin(current_user)
    db_session = db.session()
    form = LicenceForm()
    if request.method == "POST" and form.validate():
        try:
            row = service.record_licence(db_session, current_user, form.licence.data, form.held.data == "yes",
                                         form.note.data, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("licence.record", record_type="licence", record_id=row.id,
                  detail=f"{row.licence}={'held' if row.held else 'not held'}")
            db_session.commit()
            flash("Licence recorded.")
            return see_other(url_for("measures.licences"))
    held = service.licences_held(db_session)
    return render("measures/licences.html", form=form,
                  licences=[(label, key in held) for key, label in service.LICENCES.items()],
                  status=422 if request.method == "POST" else 200)


@bp.route("/team/scales", methods=["GET", "POST"])
@login_required
def scales():
    """A supervisor adds the team's own 0-10 questions (shown everywhere as not validated)."""
    db_session = db.session()
    if current_user.role != "supervisor":
        raise NotFound
    form = ScaleForm()
    if request.method == "POST" and form.validate():
        details = service.ScaleDetails(form.name.data or "", form.question.data or "", form.low_label.data or "",
                                       form.high_label.data or "", form.higher_is_worse.data == "worse")
        try:
            scale = service.add_scale(db_session, current_user, details, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("scale.create", record_type="team_scale", record_id=scale.id)
            db_session.commit()
            flash("Scale added: workers can take it from a person's measures.")
            return see_other(url_for("measures.scales"))
    return render("measures/scales.html", form=form, scales=service.team_scales(db_session, current_user.team_id),
                  status=422 if request.method == "POST" else 200)


@bp.post("/team/scales/<int:scale_id>/retire")
@login_required
def retire_scale(scale_id: int):
    db_session = db.session()
    if not RetireForm().validate():
        raise NotFound
    scale = service.retire_scale(db_session, current_user, scale_id, now=utcnow())
    audit("scale.retire", record_type="team_scale", record_id=scale.id)
    db_session.commit()
    flash("Scale retired: its scores stay on people's records.")
    return see_other(url_for("measures.scales"))
