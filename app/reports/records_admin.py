"""Records management, for admins: subject-access requests (due a month after receipt, shown until
answered), the export of a person's own copy (redactions, release recorded), the retention
schedule, legal hold and erasure."""
from flask import current_app, flash, make_response, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from app import db
from app.models import Person, Team, User
from app.models.records import SubjectAccessRequest
from app.models.reports import Report, ReportVersion
from app.models.referrals import PartnerService, Referral
from app.models.types import utcnow
from app.report_material import material
from app.reports import bp
from app.reports.forms import EraseForm, ExtendForm, LegalHoldForm, NewRequestForm, retention_form
from app.services import ValidationError, photos
from app.services import referral_documents as referral_docs
from app.services import referrals as referral_service
from app.services import report_documents as report_docs
from app.services import reports as report_service
from app.services import retention
from app.services import subject_access as service
from app.services.access import NotFound, require_admin
from app.web import audit, render, see_other, show_errors, zone

RECIPIENTS = {"person": "The person themselves", "representative": "Their representative, with their authority",
              "other": "Someone else with a lawful basis"}


def _today():
    return utcnow().astimezone(zone()).date()


def _uploads():
    return photos.uploads_folder(current_app.extensions["fieldline.settings"].instance_path)


def _schedule_form(formdata=None):
    form = retention_form(retention.KINDS)(formdata=formdata)
    if formdata is None:
        for kind, days in retention.schedule(db.session()).items():
            form[kind].data = days
    return form


@bp.get("/admin/records")
@login_required
def records(new_form=None, schedule_form=None, status: int = 200):
    require_admin(current_user)
    db_session = db.session()
    waiting = service.open_requests(db_session)
    names = dict(db_session.exec(select(Person.id, Person.name).where(
        Person.id.in_([r.person_id for r in waiting] or [-1]))).all())
    today = _today()
    return render("reports/records.html", status=status, waiting=waiting, names=names,
                  labels={r.id: service.due_label(r, today) for r in waiting}, reference=service.request_reference,
                  new_form=new_form or NewRequestForm(formdata=None), schedule_form=schedule_form or _schedule_form(),
                  kinds=retention.KINDS)


@bp.post("/admin/records/requests")
@login_required
def new_request():
    require_admin(current_user)
    db_session = db.session()
    form = NewRequestForm()
    if form.validate():
        try:
            found = service.open_request(db_session, current_user, form.person_ref.data, form.received_on.data,
                                         today=_today())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("subject_access.request", record_type="person", record_id=found.person_id,
                  detail=f"{service.request_reference(found)} received {found.received_on}, due {found.due_on}")
            db_session.commit()
            return see_other(url_for("reports.subject_access", request_id=found.id))
    db_session.rollback()
    return records(new_form=form, status=422)


@bp.post("/admin/records/retention")
@login_required
def retention_schedule():
    require_admin(current_user)
    db_session = db.session()
    form = _schedule_form(request.form)
    if form.validate():
        errors = {}
        for kind in retention.KINDS:
            try:
                retention.set_rule(db_session, current_user, kind, form[kind].data, now=utcnow())
            except ValidationError as error:
                errors.update(error.errors)
        if not errors:
            db_session.commit()
            flash("Retention schedule saved.")
            return see_other(url_for("reports.records"))
        show_errors(form, errors)
    db_session.rollback()
    return records(schedule_form=form, status=422)


def _request(request_id: int) -> SubjectAccessRequest:
    require_admin(current_user)
    found = db.session().get(SubjectAccessRequest, request_id)
    if found is None:
        raise NotFound
    return found


def _referral_pdfs(db_session, export: service.Export, redacted: list[str]) -> dict[str, bytes]:
    out = {}
    for row in export.data["referrals"]:
        referral = db_session.get(Referral, row["id"])
        parts = referral_docs.sections(referral, db_session.get(Person, referral.person_id),
                                       db_session.get(User, referral.author_id), db_session.get(Team, referral.team_id),
                                       db_session.get(PartnerService, referral.partner_id) if referral.partner_id
                                       else None, zone())
        parts, _ = service.redact_document(parts, redacted)
        out[row["file"]] = referral_docs.as_pdf(
            parts, f"Referral: {referral_service.ROUTE_TEMPLATES[referral.route].label}",
            reference=referral_service.reference(referral), status=referral_service.STATUS_LABELS[referral.status])
    return out


def _redacted_report_pdfs(db_session, export: service.Export, redacted: list[str]) -> dict[str, bytes]:
    """An approved report whose PDF names someone the admin redacted goes out as a copy made again
    from the approved version with those names redacted (the stored version is never touched);
    the others go as approved, byte for byte."""
    out = {}
    for row in export.data["report_versions"] if redacted else []:
        approved = db_session.get(ReportVersion, row["id"])
        report = db_session.get(Report, approved.report_id)
        parts = report_docs.parts(
            reference=report_service.reference(report), version=approved.version, template=approved.template,
            audience=approved.audience, start=approved.period_start, end=approved.period_end,
            person_name=db_session.get(Person, report.person_id).name,
            author=db_session.get(User, approved.author_id).name,
            approver=db_session.get(User, approved.approved_by_id).name, approved_at=approved.approved_at,
            sections=approved.sections, zone=zone())
        parts, changed = service.redact_document(parts, redacted)
        if changed:
            row["redacted_copy"] = True
            out[row["file"]] = report_docs.pdf(parts, template=approved.template,
                                               reference=report_service.reference(report),
                                               status=f"Approved, version {approved.version}; redacted for release")
    return out


@bp.route("/admin/subject-access/<int:request_id>", methods=["GET", "POST"])
@login_required
def subject_access(request_id: int, extend_form=None, status: int = 200):
    db_session = db.session()
    found = _request(request_id)
    person = db_session.get(Person, found.person_id)
    export = service.collect(db_session, person)
    found_material = material(current_app)
    export.data.update(found_material.holdings(db_session, person))  # plans, orders, ... from their packages
    export.summaries.update(found_material.summaries())
    flags = service.third_parties(db_session, export)
    names = sorted({f.name for f in flags})
    recipient = request.form.get("recipient", "") if request.method == "POST" else ""
    problem = None
    if request.method == "POST" and extend_form is None:
        if recipient not in RECIPIENTS:
            problem, status = "Say who the copy is for.", 422
        else:
            chosen = [n for n in request.form.getlist("redact") if n in names]
            service.redact(export, chosen)
            export.pdfs.update(_redacted_report_pdfs(db_session, export, chosen))
            now = utcnow()
            reference = service.request_reference(found)
            body = service.as_zip(export, _uploads(), reference, _referral_pdfs(db_session, export, chosen))
            counts = ", ".join(f"{k} {len(v)}" for k, v in export.data.items() if isinstance(v, list) and v)
            detail = f"to {recipient}; {len(chosen)} names redacted; {counts}"
            service.record_release(db_session, found, current_user, recipient, detail, now=now)
            audit("subject_access.export", record_type="person", record_id=person.id, detail=f"{reference} {detail}")
            db_session.commit()
            response = make_response(body)
            response.headers["Content-Type"] = "application/zip"
            response.headers["Content-Disposition"] = f'attachment; filename="{reference}.zip"'
            return response
    elif request.method == "GET":
        audit("subject_access.view", record_type="person", record_id=person.id)
        db_session.commit()
    counts = [(k.replace("_", " ").capitalize(), len(v)) for k, v in export.data.items() if isinstance(v, list)]
    return render("reports/subject_access.html", status=status, found=found, person=person, counts=counts,
                  flags=flags, names=names, recipients=RECIPIENTS, recipient=recipient, problem=problem,
                  reference=service.request_reference(found), due=service.due_label(found, _today()),
                  extend_form=extend_form or ExtendForm(formdata=None), recipient_labels=RECIPIENTS)


@bp.post("/admin/subject-access/<int:request_id>/extend")
@login_required
def extend(request_id: int):
    db_session = db.session()
    found = _request(request_id)
    form = ExtendForm()
    if form.validate():
        try:
            service.extend(db_session, found, form.reason.data or "")
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("subject_access.extend", record_type="person", record_id=found.person_id,
                  detail=f"{service.request_reference(found)} due {found.due_on}")
            db_session.commit()
            flash(f"Extended: now due {found.due_on:%-d %B %Y}.")
            return see_other(url_for("reports.subject_access", request_id=found.id))
    db_session.rollback()
    return subject_access(request_id, extend_form=form, status=422)


def _person(person_id: int) -> Person:
    require_admin(current_user)
    person = db.session().get(Person, person_id)
    if person is None:
        raise NotFound
    return person


@bp.get("/admin/people/<int:person_id>/records")
@login_required
def person_records(person_id: int, hold_form=None, erase_form=None, status: int = 200):
    person = _person(person_id)
    if hold_form is None:
        hold_form = LegalHoldForm(formdata=None, hold=person.legal_hold, reason=person.legal_hold_reason or "")
    return render("reports/person_records.html", status=status, person=person, hold_form=hold_form,
                  erase_form=erase_form or EraseForm(formdata=None))


@bp.post("/admin/people/<int:person_id>/legal-hold")
@login_required
def legal_hold(person_id: int):
    db_session = db.session()
    person = _person(person_id)
    form = LegalHoldForm()
    if form.validate():
        try:
            retention.set_legal_hold(db_session, person, current_user, bool(form.hold.data), form.reason.data or "",
                                     now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            db_session.commit()
            flash("Legal hold on: nothing in this record will be deleted." if person.legal_hold else
                  "Legal hold off: the retention schedule applies again.")
            return see_other(url_for("reports.person_records", person_id=person.id))
    db_session.rollback()
    return person_records(person_id, hold_form=form, status=422)


@bp.post("/admin/people/<int:person_id>/erase")
@login_required
def erase(person_id: int):
    db_session = db.session()
    person = _person(person_id)
    form = EraseForm()
    if form.validate():
        try:
            retention.erase(db_session, person, current_user, form.reason.data or "", now=utcnow(), uploads=_uploads())
        except ValidationError as error:
            db_session.rollback()
            show_errors(form, error.errors)
        else:
            flash("The record has been erased; the audit keeps that it was, and why.")
            return see_other(url_for("reports.records"))
    return person_records(person_id, erase_form=form, status=422)
