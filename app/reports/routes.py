"""Reports drafted from a person's record: write, autosave, ask for sign-off, approve or return,
new versions and comparing them, print and PDF."""
from flask import current_app, flash, jsonify, make_response, request, url_for
from flask_login import current_user, login_required

from app import db
from app.models import Person, User
from app.models.types import utcnow
from app.report_material import PeriodView, material
from app.reports import bp
from app.reports.forms import NewReportForm, ReturnForm
from app.services import ValidationError, people
from app.services import delivery as delivery_service
from app.services import report_documents as documents
from app.services import reports as service
from app.services.access import NotFound, require_team
from app.services.safety import team_supervisors
from app.web import audit, local_time, render, see_other, show_errors, zone

SECTION_FIELD = "section_"


@bp.route("/people/<int:person_id>/reports/new", methods=["GET", "POST"])
@login_required
def new(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    form = NewReportForm()
    if request.method == "POST" and form.validate():
        now = utcnow()
        asked = service.Request(template=form.template.data or "", audience=form.audience.data or "",
                                period_start=form.period_start.data, period_end=form.period_end.data)
        errors = service.check_request(asked, now.astimezone(zone()).date())
        if not errors:
            view = PeriodView(db_session, person, asked.period_start, asked.period_end, zone(), now)
            try:
                sections = service.prefill(material(current_app), view, service.TEMPLATES[asked.template])
            except ValidationError as error:
                errors = error.errors
        if errors:
            show_errors(form, errors)
        else:
            report = service.create(db_session, current_user, person, asked, sections, now=now)
            audit("report.create", record_type="report", record_id=report.id, detail=asked.template)
            db_session.commit()
            flash("Drafted from the record. Check every section and change what the reader does not need.")
            return see_other(url_for("reports.show", report_id=report.id))
    return render("reports/new.html", form=form, person=person, templates=service.TEMPLATES,
                  status=422 if request.method == "POST" else 200)


@bp.get("/reports")
@login_required
def index():
    require_team(current_user)
    db_session = db.session()
    waiting = service.awaiting(db_session, current_user.team_id)
    return render("reports/index.html", waiting=waiting,
                  names=people.names(db_session, current_user, {r.person_id for r in waiting}),
                  templates=service.TEMPLATES, authors=_authors(current_user.team_id))


def _authors(team_id: int) -> dict[int, str]:
    return {u.id: u.name for u in people.team_workers(db.session(), team_id)}


def _report(report_id: int):
    return service.get_report(db.session(), current_user, report_id)


@bp.get("/reports/<int:report_id>")
@login_required
def show(report_id: int):
    report = _report(report_id)
    audit("report.view", record_type="report", record_id=report.id)
    db.session().commit()
    return _page(report, ReturnForm(formdata=None))


def _page(report, return_form: ReturnForm, status: int = 200, problem: str | None = None):
    db_session = db.session()
    editable = report.status in service.EDITABLE and report.author_id == current_user.id
    reviewer = (report.status == "awaiting_sign_off" and current_user.role == "supervisor"
                and current_user.id != report.author_id)
    return render("reports/show.html", status=status, report=report, person=db_session.get(Person, report.person_id),
                  template=service.TEMPLATES[report.template], editable=editable, reviewer=reviewer,
                  versions=service.versions(db_session, report), reviews=service.reviews(db_session, report),
                  authors=_authors(report.team_id), reference=service.reference(report), return_form=return_form,
                  status_label=service.STATUS_LABELS[report.status], tone=service.STATUS_TONES[report.status],
                  problem=problem, prefix=SECTION_FIELD, review_labels=service.REVIEW_LABELS,
                  choosable=_choosable(report))


def _choosable(report) -> set[str]:
    """The sections whose quotes the worker picks from a list (contact extracts)."""
    found = material(current_app)
    return {s.key for s in service.TEMPLATES[report.template].sections if found.offers_choices(s.topics)}


def _texts(report) -> dict[str, str]:
    return {s["key"]: request.form[SECTION_FIELD + s["key"]] for s in report.sections
            if SECTION_FIELD + s["key"] in request.form}


def _client_ms() -> int | None:
    value = request.form.get("client_ms", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 16 else None


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/reports/<int:report_id>/draft")
@login_required
def save(report_id: int):
    """The draft as typed: sent every few seconds by the page (or from the outbox), or by Save draft."""
    db_session = db.session()
    report = _report(report_id)
    now = utcnow()
    try:
        kept = service.save_draft(db_session, report, current_user, _texts(report), client_ms=_client_ms(), now=now)
    except ValidationError as error:
        db_session.rollback()
        if _wants_json():
            return jsonify(errors=error.errors), 422
        return _page(report, ReturnForm(formdata=None), status=422, problem=next(iter(error.errors.values())))
    if kept:
        audit("report.save", record_type="report", record_id=report.id)
    db_session.commit()
    if _wants_json():
        return jsonify(saved=local_time(report.draft_saved_at, "%H:%M:%S"), kept=kept)
    flash("Draft saved.")
    return see_other(url_for("reports.show", report_id=report.id))


@bp.post("/reports/<int:report_id>/sign-off")
@login_required
def ask_sign_off(report_id: int):
    db_session = db.session()
    report = _report(report_id)
    now = utcnow()
    try:
        if _texts(report):
            service.save_draft(db_session, report, current_user, _texts(report), client_ms=_client_ms(), now=now)
        service.ask_sign_off(db_session, report, current_user, now=now)
    except ValidationError as error:
        db_session.rollback()
        return _page(report, ReturnForm(formdata=None), status=422, problem=next(iter(error.errors.values())))
    message = delivery_service.Message(kind="referral", event_ref=f"report:{report.id}:v{report.version}:sign-off",
                                       title="A report needs your sign-off", body="Open Fieldline to review it.",
                                       url=url_for("reports.show", report_id=report.id))
    for supervisor in team_supervisors(db_session, report.team_id):
        if supervisor.id != report.author_id:
            delivery_service.enqueue(db_session, message, supervisor, now=now)
    audit("report.ask_sign_off", record_type="report", record_id=report.id, detail=f"v{report.version}")
    db_session.commit()
    flash("Sent for sign-off: a supervisor has been asked to approve it.")
    return see_other(url_for("reports.show", report_id=report.id))


def _document(report, *, version=None, approver: str | None = None, approved_at=None):
    """The report's document: an approved version as approved, or the draft as it stands (with the
    approver about to sign it, when approving)."""
    db_session = db.session()
    source = version or report
    if version is not None:
        approver, approved_at = db_session.get(User, version.approved_by_id).name, version.approved_at
    return documents.parts(
        reference=service.reference(report), version=source.version, template=source.template,
        audience=source.audience, start=source.period_start, end=source.period_end,
        person_name=db_session.get(Person, report.person_id).name,
        author=db_session.get(User, source.author_id).name, approver=approver, approved_at=approved_at,
        sections=source.sections, zone=zone())


@bp.post("/reports/<int:report_id>/approve")
@login_required
def approve(report_id: int):
    db_session = db.session()
    report = _report(report_id)
    now = utcnow()
    try:
        service.check_reviewer(report, current_user)
    except ValidationError as error:
        return _page(report, ReturnForm(formdata=None), status=422, problem=next(iter(error.errors.values())))
    draft_as_approved = _document(report, approver=current_user.name, approved_at=now)
    pdf = documents.pdf(draft_as_approved, template=report.template, reference=service.reference(report),
                        status=f"Approved, version {report.version}")
    service.approve(db_session, report, current_user, pdf, now=now)
    audit("report.approve", record_type="report", record_id=report.id, detail=f"v{report.version}")
    db_session.commit()
    flash(f"Approved: version {report.version} is signed off and can no longer change.")
    return see_other(url_for("reports.show", report_id=report.id))


@bp.post("/reports/<int:report_id>/return")
@login_required
def send_back(report_id: int):
    db_session = db.session()
    report = _report(report_id)
    form = ReturnForm()
    if form.validate():
        try:
            service.send_back(db_session, report, current_user, form.comments.data, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("report.return", record_type="report", record_id=report.id, detail=f"v{report.version}")
            db_session.commit()
            flash("Returned to the author with your comments.")
            return see_other(url_for("reports.show", report_id=report.id))
    db_session.rollback()
    return _page(report, form, status=422)


@bp.post("/reports/<int:report_id>/revise")
@login_required
def revise(report_id: int):
    db_session = db.session()
    report = _report(report_id)
    try:
        service.revise(db_session, report, current_user, now=utcnow())
    except ValidationError as error:
        return _page(report, ReturnForm(formdata=None), status=422, problem=next(iter(error.errors.values())))
    audit("report.revise", record_type="report", record_id=report.id, detail=f"v{report.version}")
    db_session.commit()
    flash(f"Version {report.version} started from the approved text; the approved version is kept as it was.")
    return see_other(url_for("reports.show", report_id=report.id))


def _pdf_response(report, body: bytes, version: int):
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    # No person's name in the file name: downloads folders are not private.
    response.headers["Content-Disposition"] = f'attachment; filename="{service.file_name(report, version)}"'
    return response


@bp.get("/reports/<int:report_id>/versions/<int:number>/pdf")
@login_required
def version_pdf(report_id: int, number: int):
    report = _report(report_id)
    approved = service.version(db.session(), report, number)
    audit("report.pdf", record_type="report", record_id=report.id, detail=f"v{number}")
    db.session().commit()
    return _pdf_response(report, approved.pdf, number)


@bp.get("/reports/<int:report_id>/pdf")
@login_required
def draft_pdf(report_id: int):
    report = _report(report_id)
    body = documents.pdf(_document(report), template=report.template, reference=service.reference(report),
                         status=f"{service.STATUS_LABELS[report.status]}, version {report.version}, not approved")
    audit("report.pdf", record_type="report", record_id=report.id, detail=f"v{report.version} draft")
    db.session().commit()
    return _pdf_response(report, body, report.version)


@bp.get("/reports/<int:report_id>/print")
@bp.get("/reports/<int:report_id>/versions/<int:number>/print")
@login_required
def print_view(report_id: int, number: int | None = None):
    report = _report(report_id)
    approved = service.version(db.session(), report, number) if number else None
    audit("report.print", record_type="report", record_id=report.id,
          detail=f"v{number}" if number else f"v{report.version} draft")
    db.session().commit()
    status = f"Approved, version {number}" if approved else \
        f"{service.STATUS_LABELS[report.status]}, version {report.version}, not approved"
    return render("reports/print.html", report=report, parts=_document(report, version=approved),
                  title=service.TEMPLATES[report.template].label, reference=service.reference(report),
                  status_label=status)


@bp.get("/reports/<int:report_id>/compare/<int:older>")
@bp.get("/reports/<int:report_id>/compare/<int:older>/<int:newer>")
@login_required
def compare(report_id: int, older: int, newer: int | None = None):
    """Two approved versions side by side, or an approved version against the draft after it."""
    db_session = db.session()
    report = _report(report_id)
    before = service.version(db_session, report, older)
    after = service.version(db_session, report, newer) if newer else None
    if after is None and newer is None and report.status == "approved" and report.version == older:
        raise NotFound  # nothing after it to compare with
    audit("report.compare", record_type="report", record_id=report.id, detail=f"v{older}-v{newer or 'draft'}")
    db_session.commit()
    return render("reports/compare.html", report=report, template=service.TEMPLATES[report.template],
                  older=older, newer=newer, changes=service.compare(before.sections, (after or report).sections),
                  reference=service.reference(report))
