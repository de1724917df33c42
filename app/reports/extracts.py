"""Choosing which contacts a report section quotes: every contact in the report's period with a
checkbox (the ones quoted now ticked); the chosen ones go in with their dates and source links."""
from flask import current_app, flash, request, url_for
from flask_login import current_user, login_required

from app import db
from app.models import Person
from app.models.types import utcnow
from app.report_material import PeriodView, material
from app.reports import bp
from app.services import ValidationError
from app.services import reports as service
from app.services.access import NotFound
from app.web import audit, render, see_other, zone


def _offered(report, section_key: str):
    """The section's choosable sentences for the report's period (404 when it offers none)."""
    spec = next((s for s in service.TEMPLATES[report.template].sections if s.key == section_key), None)
    found = material(current_app)
    if spec is None or not found.offers_choices(spec.topics):
        raise NotFound
    db_session = db.session()
    view = PeriodView(db_session, db_session.get(Person, report.person_id), report.period_start, report.period_end,
                      zone(), utcnow())
    return spec, found.choices(view, spec.topics)


@bp.route("/reports/<int:report_id>/sections/<section_key>/extracts", methods=["GET", "POST"])
@login_required
def extracts(report_id: int, section_key: str):
    db_session = db.session()
    report = service.get_report(db_session, current_user, report_id)
    spec, offered = _offered(report, section_key)
    problem, status = None, 200
    chosen = service.quoted_keys(report, section_key, offered)
    if request.method == "POST":
        chosen = set(request.form.getlist("extract"))
        try:
            count = service.choose_extracts(db_session, report, current_user, section_key, offered, chosen,
                                            now=utcnow())
        except ValidationError as error:
            db_session.rollback()
            problem, status = next(iter(error.errors.values())), 422
        else:
            audit("report.extracts", record_type="report", record_id=report.id, detail=f"{section_key}: {count}")
            db_session.commit()
            flash(f"{count} extract{'s' if count != 1 else ''} in “{spec.heading}”.")
            return see_other(url_for("reports.show", report_id=report.id) + f"#section-{section_key}")
    return render("reports/extracts.html", status=status, report=report, spec=spec, offered=offered, chosen=chosen,
                  problem=problem, editable=report.status in service.EDITABLE and report.author_id == current_user.id)
