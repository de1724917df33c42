"""The person's own copy (subject access), for admins: what is held, the third-party names to
review, and the export as a ZIP (audited, with what was redacted and to whom it goes)."""
from flask import current_app, make_response, request
from flask_login import current_user, login_required

from app import db
from app.models import Person, Team, User
from app.models.referrals import PartnerService, Referral
from app.models.types import utcnow
from app.reports import bp
from app.services import photos
from app.services import referral_documents as referral_docs
from app.services import referrals as referral_service
from app.services import subject_access as service
from app.services.access import NotFound, require_admin
from app.web import audit, render, zone

RECIPIENTS = {"person": "The person themselves", "representative": "Their representative, with their authority",
              "other": "Someone else with a lawful basis"}


def _person(person_id: int) -> Person:
    require_admin(current_user)
    person = db.session().get(Person, person_id)
    if person is None:
        raise NotFound
    return person


def _referral_pdfs(db_session, export: service.Export) -> dict[str, bytes]:
    out = {}
    for row in export.data["referrals"]:
        referral = db_session.get(Referral, row["id"])
        parts = referral_docs.sections(referral, db_session.get(Person, referral.person_id),
                                       db_session.get(User, referral.author_id), db_session.get(Team, referral.team_id),
                                       db_session.get(PartnerService, referral.partner_id) if referral.partner_id
                                       else None, zone())
        out[row["file"]] = referral_docs.as_pdf(
            parts, f"Referral: {referral_service.ROUTE_TEMPLATES[referral.route].label}",
            reference=referral_service.reference(referral), status=referral_service.STATUS_LABELS[referral.status])
    return out


@bp.route("/admin/people/<int:person_id>/subject-access", methods=["GET", "POST"])
@login_required
def subject_access(person_id: int):
    db_session = db.session()
    person = _person(person_id)
    export = service.collect(db_session, person)
    flags = service.third_parties(db_session, export)
    names = sorted({f.name for f in flags})
    recipient = request.form.get("recipient", "")
    if request.method == "POST" and recipient in RECIPIENTS:
        chosen = [n for n in request.form.getlist("redact") if n in names]
        service.redact(export, chosen)
        now = utcnow()
        reference = service.reference(person, now)
        body = service.as_zip(export, photos.uploads_folder(current_app.extensions["fieldline.settings"].instance_path),
                              reference, _referral_pdfs(db_session, export))
        counts = ", ".join(f"{k} {len(v)}" for k, v in export.data.items() if isinstance(v, list) and v)
        audit("subject_access.export", record_type="person", record_id=person.id,
              detail=f"to {recipient}; {len(chosen)} names redacted; {counts}")
        db_session.commit()
        response = make_response(body)
        response.headers["Content-Type"] = "application/zip"
        response.headers["Content-Disposition"] = f'attachment; filename="{reference}.zip"'
        return response
    if request.method == "GET":
        audit("subject_access.view", record_type="person", record_id=person.id)
        db_session.commit()
    counts = [(k.replace("_", " ").capitalize(), len(v)) for k, v in export.data.items() if isinstance(v, list)]
    return render("reports/subject_access.html", person=person, counts=counts, flags=flags, names=names,
                  recipients=RECIPIENTS, recipient=recipient,
                  problem="Say who the copy is for." if request.method == "POST" else None,
                  status=422 if request.method == "POST" else 200)
