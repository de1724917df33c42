"""Crisis referrals for a person, their approval, sending and status; the partner directory."""
from flask import flash, make_response, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select
from wtforms.fields.choices import SelectChoice

from app import db
from app.models import Person, Team, User
from app.models.referrals import ROUTES, PartnerService, Referral
from app.models.types import utcnow
from app.referrals import bp
from app.referrals.forms import PartnerForm, StatusForm, referral_form
from app.services import ValidationError, people
from app.services import delivery as delivery_service
from app.services import referral_documents as documents
from app.services import referrals as service
from app.services.access import NotFound, require_admin
from app.services.safety import team_supervisors
from app.web import audit, render, see_other, show_errors, zone


def _answers(form, route: str) -> dict[str, str]:
    return {q.name: form[f"q_{q.name}"].data or "" for q in service.ROUTE_TEMPLATES[route].questions}


def _dash(form) -> list[str]:
    return [form[f"dash_{n}"].data or "" for n in range(1, len(service.DASH_QUESTIONS) + 1)]


@bp.get("/people/<int:person_id>/refer")
@login_required
def choose(person_id: int):
    person = people.get_person(db.session(), current_user, person_id)
    return render("referrals/choose.html", person=person, routes=[(k, service.ROUTE_TEMPLATES[k]) for k in ROUTES])


@bp.route("/people/<int:person_id>/refer/<route>", methods=["GET", "POST"])
@login_required
def new(person_id: int, route: str):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    if route not in service.ROUTE_TEMPLATES:
        raise NotFound
    form = referral_form(route)()
    now = utcnow()
    partners = service.partners_for(db_session, route)
    form.partner_id.choices = [SelectChoice("", "No service from the directory (I will send it myself)")] + [
        SelectChoice(str(p.id), f"{p.name} — {'open now' if service.is_open(p, now, zone()) else 'closed now'}"
                     + (f", {p.area}" if p.area else "")) for p in partners]
    if request.method == "GET":
        form.summary.data = service.prefill(db_session, person, zone())
        form.lawful_basis.data = "consent" if person.consent_to_share == "yes" else None
    if request.method == "POST" and form.validate():
        draft = service.Draft(route=route, partner_id=form.partner_id.data, answers=_answers(form, route),
                              summary=form.summary.data or "", lawful_basis=form.lawful_basis.data or "",
                              basis_reason=form.basis_reason.data, ask_approval=bool(form.ask_approval.data),
                              dash=_dash(form) if route == "domestic_abuse" else [],
                              marac_judgement=bool(getattr(form, "marac_judgement", None) and form.marac_judgement.data))
        try:
            referral = service.create(db_session, current_user, person, draft, now=now)
        except ValidationError as error:
            errors = {(f"q_{k}" if f"q_{k}" in form else k): v for k, v in error.errors.items()}
            show_errors(form, errors)
        else:
            if referral.status == "awaiting_approval":
                _ask_supervisors(db_session, referral)
            audit("referral.create", record_type="referral", record_id=referral.id, detail=route)
            db_session.commit()
            flash("Referral saved." + (" A supervisor has been asked to approve it." if referral.status ==
                                       "awaiting_approval" else " Check it, then send it."))
            if referral.marac:
                flash(f"DASH score {referral.dash_score}: refer to MARAC as well.")
            return see_other(url_for("referrals.show", referral_id=referral.id))
    return render("referrals/form.html", form=form, person=person, route=route,
                  template=service.ROUTE_TEMPLATES[route], questions=service.ROUTE_TEMPLATES[route].questions,
                  dash_numbers=range(1, len(service.DASH_QUESTIONS) + 1) if route == "domestic_abuse" else [],
                  partners=partners, status=422 if request.method == "POST" else 200)


def _ask_supervisors(db_session, referral) -> None:
    message = delivery_service.Message(kind="referral", event_ref=f"referral:{referral.id}:approval",
                                       title="A referral needs your approval", body="Open Fieldline to review it.",
                                       url=url_for("referrals.show", referral_id=referral.id))
    for supervisor in team_supervisors(db_session, referral.team_id):
        delivery_service.enqueue(db_session, message, supervisor, now=utcnow())


def _parts(db_session, referral):
    person = db_session.get(Person, referral.person_id)
    return documents.sections(referral, person, db_session.get(User, referral.author_id),
                              db_session.get(Team, referral.team_id),
                              db_session.get(PartnerService, referral.partner_id) if referral.partner_id else None,
                              zone()), person


def _pdf(db_session, referral) -> bytes:
    parts, _ = _parts(db_session, referral)
    return documents.as_pdf(parts, _title(referral), reference=service.reference(referral),
                            status=service.STATUS_LABELS[referral.status])


def _title(referral) -> str:
    return f"Referral: {service.ROUTE_TEMPLATES[referral.route].label}"


@bp.get("/referrals/<int:referral_id>")
@login_required
def show(referral_id: int):
    db_session = db.session()
    referral = service.get_referral(db_session, current_user, referral_id)
    audit("referral.view", record_type="referral", record_id=referral.id)
    db_session.commit()
    return _page(referral, StatusForm(formdata=None))


def _page(referral: Referral, status_form: StatusForm, status: int = 200):
    """The referral's page; after a refused status change, with the note typed and what to fix."""
    db_session = db.session()
    parts, person = _parts(db_session, referral)
    names = {u.id: u.name for u in people.team_workers(db_session, referral.team_id)}
    next_statuses = service.NEXT_STATUSES.get(referral.status, ())
    if referral.status in service.UNSENT:
        status_form.status.label.text = "Not sending it after all?"
    status_form.status.choices = [SelectChoice("", "Choose…")] + [
        SelectChoice(key, service.next_step_label(referral.status, key)) for key in next_statuses]
    return render("referrals/show.html", status=status, referral=referral, person=person, parts=parts,
                  events=service.events(db_session, referral), names=names, status_labels=service.STATUS_LABELS,
                  template=service.ROUTE_TEMPLATES[referral.route], cannot_send=service.can_send(referral),
                  status_form=status_form, next_statuses=next_statuses, reference=service.reference(referral),
                  partner=db_session.get(PartnerService, referral.partner_id) if referral.partner_id else None)


@bp.get("/referrals/<int:referral_id>/print")
@login_required
def print_view(referral_id: int):
    db_session = db.session()
    referral = service.get_referral(db_session, current_user, referral_id)
    parts, person = _parts(db_session, referral)
    audit("referral.print", record_type="referral", record_id=referral.id)
    db_session.commit()
    return render("referrals/print.html", referral=referral, parts=parts, title=_title(referral),
                  reference=service.reference(referral), status_label=service.STATUS_LABELS[referral.status])


@bp.get("/referrals/<int:referral_id>/pdf")
@login_required
def pdf(referral_id: int):
    db_session = db.session()
    referral = service.get_referral(db_session, current_user, referral_id)
    audit("referral.pdf", record_type="referral", record_id=referral.id)
    db_session.commit()
    response = make_response(_pdf(db_session, referral))
    response.headers["Content-Type"] = "application/pdf"
    # No person's name in the file name: downloads folders are not private.
    response.headers["Content-Disposition"] = f'attachment; filename="{service.file_name(referral)}"'
    return response


@bp.post("/referrals/<int:referral_id>/approve")
@login_required
def approve(referral_id: int):
    db_session = db.session()
    referral = service.get_referral(db_session, current_user, referral_id)
    try:
        service.approve(db_session, referral, current_user, now=utcnow())
    except ValidationError as error:
        flash(next(iter(error.errors.values())))
    else:
        audit("referral.approve", record_type="referral", record_id=referral.id)
        db_session.commit()
        flash("Approved: it can be sent now.")
    return see_other(url_for("referrals.show", referral_id=referral.id))


@bp.post("/referrals/<int:referral_id>/send")
@login_required
def send(referral_id: int):
    db_session = db.session()
    referral = service.get_referral(db_session, current_user, referral_id)
    now = utcnow()
    try:
        service.mark_sent(db_session, referral, current_user, now=now)
    except ValidationError as error:
        flash(next(iter(error.errors.values())))
        return see_other(url_for("referrals.show", referral_id=referral.id))
    partner = db_session.get(PartnerService, referral.partner_id) if referral.partner_id else None
    if partner is not None and partner.secure_email:
        ref = service.reference(referral)
        delivery_service.enqueue_email(
            db_session, to=partner.secure_email, subject=f"{_title(referral)} (ref. {ref})",
            # The details travel in the PDF only; the email itself names nobody.
            text=(f"Please find attached a referral from {db_session.get(Team, referral.team_id).name} "
                  f"(reference {ref}). Reply to this email to acknowledge it."),
            attachment=(service.file_name(referral), _pdf(db_session, referral)),
            event_ref=f"referral:{referral.id}:email", on_behalf_of=current_user, now=now)
        flash(f"Sending to {partner.name} by secure email, with the PDF attached.")
    else:
        flash("Marked as sent. Send the printed summary or PDF to the service yourself.")
    audit("referral.send", record_type="referral", record_id=referral.id)
    db_session.commit()
    return see_other(url_for("referrals.show", referral_id=referral.id))


@bp.post("/referrals/<int:referral_id>/status")
@login_required
def status(referral_id: int):
    db_session = db.session()
    referral = service.get_referral(db_session, current_user, referral_id)
    form = StatusForm()
    if form.validate():
        try:
            service.change_status(db_session, referral, form.status.data, current_user, note=form.note.data,
                                  now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("referral.status", record_type="referral", record_id=referral.id, detail=form.status.data)
            db_session.commit()
            flash(f"Status: {service.STATUS_LABELS[referral.status]}.")
            return see_other(url_for("referrals.show", referral_id=referral.id))
    db_session.rollback()
    return _page(referral, form, status=422)


# ---- the partner directory (admins) ----

@bp.get("/admin/partners")
@login_required
def partners():
    require_admin(current_user)
    rows = db.session().exec(select(PartnerService).order_by(PartnerService.route, PartnerService.name)).all()
    return render("referrals/partners.html", partners=rows, labels={k: service.ROUTE_TEMPLATES[k].label for k in ROUTES})


@bp.route("/admin/partners/new", methods=["GET", "POST"])
@bp.route("/admin/partners/<int:partner_id>", methods=["GET", "POST"])
@login_required
def partner(partner_id: int | None = None):
    require_admin(current_user)
    db_session = db.session()
    found = db_session.get(PartnerService, partner_id) if partner_id else None
    if partner_id and found is None:
        raise NotFound
    form = PartnerForm(obj=found if request.method == "GET" else None)
    if request.method == "POST" and form.validate():
        errors = {}
        days = (form.open_days.data or "").strip()
        if not days or any(c not in "1234567" for c in days):
            errors["open_days"] = "Use the digits 1 (Monday) to 7 (Sunday), for example 12345."
        if (form.opens_at.data is None) != (form.closes_at.data is None) or (
                form.opens_at.data and form.opens_at.data >= form.closes_at.data):
            errors["closes_at"] = "Give both times, closing after opening (or neither, for all day)."
        if errors:
            show_errors(form, errors)
        else:
            target = found or PartnerService(name="", route=form.route.data)
            target.name, target.route, target.active = form.name.data.strip(), form.route.data, form.active.data
            target.opens_at, target.closes_at = form.opens_at.data, form.closes_at.data
            for name in ("phone", "secure_email", "area"):  # optional text: empty means not recorded
                setattr(target, name, (form[name].data or "").strip() or None)
            target.open_days = "".join(sorted(set(days)))
            db_session.add(target)
            db_session.flush()
            audit("partner.update" if found else "partner.create", record_type="partner", record_id=target.id)
            db_session.commit()
            return see_other(url_for("referrals.partners"))
    return render("referrals/partner_form.html", form=form, partner=found,
                  status=422 if request.method == "POST" else 200)
