"""Group programmes: programmes and their plans, groups, enrolment, keep-apart flags."""
from io import BytesIO

from flask import flash, request, send_file, url_for
from flask_login import current_user, login_required
from sqlmodel import select
from wtforms.fields.choices import SelectChoice

from app import db
from app.groups import bp
from app.groups.forms import (EnrolForm, FinishForm, GroupForm, KeepApartForm, MaterialForm, MoveForm, PlanForm,
                              ProgrammeForm)
from app.models import Enrolment, Group, Person, Programme, ProgrammeMaterial, ProgrammeSession
from app.models.types import utcnow
from app.services import ValidationError, people
from app.services import group_completion
from app.services import groups as service
from app.services import materials, non_association
from app.services.access import NotFound, require_team
from app.web import audit, render, see_other, show_errors, zone


def _post() -> bool:
    return request.method == "POST"


@bp.get("/groups")
@login_required
def index():
    require_team(current_user)
    db_session = db.session()
    found = service.groups(db_session, current_user.team_id)
    return render("groups/index.html", programmes=service.programmes(db_session, current_user.team_id), groups=found,
                  counts=service.counts(db_session, [g.id for g in found]),
                  programme_names={p.id: p.name for p in service.programmes(db_session, current_user.team_id)})


# ---- programmes ----

@bp.route("/programmes/new", methods=["GET", "POST"])
@login_required
def new_programme():
    require_team(current_user)
    form = ProgrammeForm()
    if _post() and form.validate():
        db_session = db.session()
        try:
            programme = service.create_programme(db_session, current_user, service.ProgrammeDetails(
                name=form.name.data or "", session_count=form.session_count.data,
                complete_percent=form.complete_percent.data, must_attend_first=form.must_attend_first.data,
                must_attend_last=form.must_attend_last.data), now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("programme.create", record_type="programme", record_id=programme.id)
            db_session.commit()
            flash("Programme saved. Now write each session's plan.")
            return see_other(url_for("groups.programme", programme_id=programme.id))
    return render("groups/programme_form.html", form=form, status=422 if _post() else 200)


@bp.get("/programmes/<int:programme_id>")
@login_required
def programme(programme_id: int):
    db_session = db.session()
    found = service.get_programme(db_session, current_user, programme_id)
    planned = service.plans(db_session, found.id)
    return render("groups/programme.html", programme=found, plans=planned, needed=group_completion.needed_sessions(found),
                  files=materials.listed(db_session, [p.id for p in planned]))


@bp.route("/programmes/<int:programme_id>/sessions/<int:number>", methods=["GET", "POST"])
@login_required
def plan(programme_id: int, number: int):
    db_session = db.session()
    found = service.get_programme(db_session, current_user, programme_id)
    planned = service.session_plan(db_session, found, number)
    form = PlanForm(obj=planned)
    if _post() and form.validate():
        try:
            service.update_plan(db_session, found, number, service.Plan(form.topic.data or "", form.aims.data,
                                                                        form.facilitator_notes.data))
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("programme.plan", record_type="programme", record_id=found.id, detail=f"session {number}")
            db_session.commit()
            flash(f"Session {number}'s plan saved.")
            return see_other(url_for("groups.plan", programme_id=found.id, number=number))
    return _plan_page(found, planned, form, MaterialForm(formdata=None), 422 if _post() else 200)


def _plan_page(found: Programme, planned: ProgrammeSession, form, material_form, status: int):
    files = materials.listed(db.session(), [planned.id]).get(planned.id, [])
    return render("groups/plan.html", programme=found, planned=planned, form=form, material_form=material_form,
                  files=files, status=status)


@bp.post("/programmes/<int:programme_id>/sessions/<int:number>/materials")
@login_required
def attach(programme_id: int, number: int):
    db_session = db.session()
    found = service.get_programme(db_session, current_user, programme_id)
    planned = service.session_plan(db_session, found, number)
    form = MaterialForm()
    upload = request.files.get("file")
    if form.validate():
        try:
            material = materials.attach(db_session, current_user, planned, upload.read() if upload else b"",
                                        upload.filename if upload else "", now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("programme.material", record_type="programme_material", record_id=material.id)
            db_session.commit()
            flash(f"{material.filename} attached.")
            return see_other(url_for("groups.plan", programme_id=found.id, number=number))
    return _plan_page(found, planned, PlanForm(formdata=None, obj=planned), form, 422)


@bp.get("/materials/<int:material_id>")
@login_required
def material(material_id: int):
    db_session = db.session()
    found = db_session.get(ProgrammeMaterial, material_id)
    planned = db_session.get(ProgrammeSession, found.programme_session_id) if found else None
    if planned is None:
        raise NotFound
    service.get_programme(db_session, current_user, planned.programme_id)
    audit("programme.material.view", record_type="programme_material", record_id=found.id)
    db_session.commit()
    # send_file writes the name both plainly and UTF-8 encoded, so any name is a valid header.
    response = send_file(BytesIO(found.content), mimetype=found.content_type, as_attachment=True,
                         download_name=found.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- groups ----

def _group_choices(form: GroupForm) -> None:
    db_session = db.session()
    form.programme_id.choices = [SelectChoice("", "Choose a programme")] + [
        SelectChoice(str(p.id), p.name) for p in service.programmes(db_session, current_user.team_id)]
    form.facilitator_ids.choices = [SelectChoice(u.id, u.name)
                                    for u in people.team_workers(db_session, current_user.team_id)]


@bp.route("/groups/new", methods=["GET", "POST"])
@login_required
def new_group():
    require_team(current_user)
    form = GroupForm()
    _group_choices(form)
    if not _post():
        form.facilitator_ids.data = [current_user.id]
        form.programme_id.data = request.args.get("programme", type=int)
    if _post() and form.validate():
        db_session = db.session()
        try:
            group = service.create_group(db_session, current_user, service.GroupDetails(
                programme_id=form.programme_id.data, name=form.name.data or "", venue=form.venue.data or "",
                starts_local=form.starts_local.data, duration_minutes=form.duration_minutes.data,
                repeat=form.repeat.data or "", capacity=form.capacity.data,
                facilitator_ids=form.facilitator_ids.data or [], enforceable=form.enforceable.data), now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("group.create", record_type="group", record_id=group.id)
            db_session.commit()
            flash("Group saved with its sessions.")
            return see_other(url_for("groups.group", group_id=group.id))
    return render("groups/group_form.html", form=form, status=422 if _post() else 200)


def _enrol_form(group: Group, form: EnrolForm | None = None) -> EnrolForm:
    form = form or EnrolForm(formdata=None)
    form.person_id.choices = [SelectChoice("", "Choose a person")] + [
        SelectChoice(str(p.id), p.name) for p in people.visit_choices(db.session(), current_user)]
    return form


def _move_form(group: Group, enrolment: Enrolment, form: MoveForm | None = None) -> MoveForm:
    form = form or MoveForm(formdata=None, prefix=f"move-{enrolment.id}")
    form.group_id.choices = [SelectChoice("", "Choose a group")] + [
        SelectChoice(str(g.id), g.name) for g in service.groups(db.session(), group.team_id)
        if g.programme_id == group.programme_id and g.id != group.id]
    return form


def _group_page(group: Group, enrol_form: EnrolForm | None = None, *, status: int = 200, conflicts=None,
                other_group=None, forms: dict | None = None):
    db_session = db.session()
    enrolments = service.members(db_session, group.id)
    persons = {p.id: p for p in db_session.exec(select(Person).where(
        Person.id.in_([e.person_id for e in enrolments]))).all()} if enrolments else {}
    forms = forms or {}
    done = group_completion.completions(db_session, group, [e for e in enrolments if e.state == "enrolled"])
    rows = [{"enrolment": e, "person": persons[e.person_id], "state": service.STATE_LABELS[e.state],
             "completion": done.get(e.id),
             "move_form": forms.get(("move", e.id)) or _move_form(group, e),
             "finish_form": forms.get(("finish", e.id)) or FinishForm(formdata=None, prefix=f"finish-{e.id}")}
            for e in enrolments]
    return render("groups/group.html", group=group, programme=db_session.get(Programme, group.programme_id),
                  sessions=service.sessions_of(db_session, group), facilitators=service.facilitators(db_session, group),
                  rows=rows, enrol_form=_enrol_form(group, enrol_form), conflicts=conflicts, other_group=other_group,
                  enrolled=sum(1 for e in enrolments if e.state == "enrolled"), status=status)


@bp.get("/groups/<int:group_id>")
@login_required
def group(group_id: int):
    db_session = db.session()
    found = service.get_group(db_session, current_user, group_id)
    audit("group.view", record_type="group", record_id=found.id)
    db_session.commit()
    return _group_page(found)


def _override(reason: str | None) -> service.Override | None:
    """Only a supervisor's reason is an override (anyone else's is not asked for, so not read)."""
    if current_user.role != "supervisor" or not (reason or "").strip():
        return None
    return service.Override(current_user, reason)


@bp.post("/groups/<int:group_id>/enrol")
@login_required
def enrol(group_id: int):
    db_session = db.session()
    found = service.get_group(db_session, current_user, group_id)
    form = _enrol_form(found, EnrolForm())
    if not form.validate():
        return _group_page(found, form, status=422)
    if form.person_id.data is None:
        form.person_id.errors = ["Choose the person to enrol."]
        return _group_page(found, form, status=422)
    person = people.get_person(db_session, current_user, form.person_id.data)
    try:
        enrolment = service.enrol(db_session, current_user, found, person, now=utcnow(), zone=zone(),
                                  override=_override(form.override_reason.data),
                                  despite_other_group=form.despite_other_group.data)
    except service.NeedsOverride as needs:
        if current_user.role == "supervisor" and "override_reason" in request.form:
            form.override_reason.errors = ["Say why they may be in this group together."]
        return _group_page(found, form, status=422, conflicts=needs.conflicts)
    except service.AlreadyInProgramme as already:
        return _group_page(found, form, status=422, other_group=already.group)
    except ValidationError as error:
        show_errors(form, error.errors)
        return _group_page(found, form, status=422)
    audit("group.enrol", record_type="enrolment", record_id=enrolment.id, detail=enrolment.state)
    if enrolment.override_by_id:
        audit("group.enrol.override", record_type="enrolment", record_id=enrolment.id,
              detail=enrolment.override_reason)
    db_session.commit()
    flash(f"{person.name} enrolled." if enrolment.state == "enrolled"
          else f"The group is full: {person.name} is on the waiting list.")
    return see_other(url_for("groups.group", group_id=found.id))


@bp.post("/enrolments/<int:enrolment_id>/move")
@login_required
def move(enrolment_id: int):
    db_session = db.session()
    enrolment = service.get_enrolment(db_session, current_user, enrolment_id)
    source = db_session.get(Group, enrolment.group_id)
    form = _move_form(source, enrolment, MoveForm(prefix=f"move-{enrolment.id}"))
    forms = {("move", enrolment.id): form}
    if not form.validate() or form.group_id.data is None:
        form.group_id.errors = list(form.group_id.errors) or ["Choose the group to move them to."]
        return _group_page(source, status=422, forms=forms)
    target = service.get_group(db_session, current_user, form.group_id.data)
    try:
        moved = service.move(db_session, current_user, enrolment, target, now=utcnow(), zone=zone(),
                             override=_override(form.override_reason.data))
    except service.NeedsOverride as needs:
        form.override_reason.errors = ["They must not meet " + ", ".join(p.name for p in needs.conflicts)
                                       + " in that group. A supervisor can move them with a reason."]
        return _group_page(source, status=422, forms=forms)
    except ValidationError as error:
        show_errors(form, error.errors)
        return _group_page(source, status=422, forms=forms)
    audit("group.move", record_type="enrolment", record_id=moved.id, detail=f"from group {source.id}")
    if moved.override_by_id:
        audit("group.enrol.override", record_type="enrolment", record_id=moved.id, detail=moved.override_reason)
    db_session.commit()
    flash("Moved." if moved.state == "enrolled" else "Moved: that group is full, so they are on its waiting list.")
    return see_other(url_for("groups.group", group_id=source.id))


@bp.post("/enrolments/<int:enrolment_id>/finish")
@login_required
def finish(enrolment_id: int):
    db_session = db.session()
    enrolment = service.get_enrolment(db_session, current_user, enrolment_id)
    source = db_session.get(Group, enrolment.group_id)
    form = FinishForm(prefix=f"finish-{enrolment.id}")
    forms = {("finish", enrolment.id): form}
    if not form.validate() or form.outcome.data not in ("completed", "not_completed"):
        form.outcome.errors = ["Choose whether they completed the programme."]
        return _group_page(source, status=422, forms=forms)
    try:
        service.finish(db_session, current_user, enrolment, completed=form.outcome.data == "completed",
                       reason=form.reason.data, now=utcnow())
    except ValidationError as error:
        show_errors(form, error.errors)
        return _group_page(source, status=422, forms=forms)
    audit("group.finish", record_type="enrolment", record_id=enrolment.id, detail=enrolment.state)
    db_session.commit()
    flash("Completion recorded." if enrolment.state == "completed" else "Non-completion recorded.")
    return see_other(url_for("groups.group", group_id=source.id))


# ---- keep apart ----

@bp.route("/people/<int:person_id>/keep-apart", methods=["GET", "POST"])
@login_required
def keep_apart(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    form = KeepApartForm()
    form.other_person_id.choices = [SelectChoice("", "Choose a person")] + [
        SelectChoice(str(p.id), p.name) for p in people.visit_choices(db_session, current_user) if p.id != person.id]
    if _post() and form.validate():
        if form.other_person_id.data is None:
            form.other_person_id.errors = ["Choose who they must be kept apart from."]
        else:
            other = people.get_person(db_session, current_user, form.other_person_id.data)
            try:
                flag = non_association.keep_apart(db_session, current_user, person, other, form.reason.data or "",
                                          now=utcnow())
            except ValidationError as error:
                show_errors(form, error.errors)
            else:
                audit("person.keep_apart", record_type="person", record_id=person.id, detail=f"flag {flag.id}")
                db_session.commit()
                flash("Saved: Fieldline will warn before they are put in a group together.")
                return see_other(url_for("caseload.person", person_id=person.id))
    return render("groups/keep_apart.html", form=form, person=person, status=422 if _post() else 200)
