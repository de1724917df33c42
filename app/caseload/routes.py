"""The caseload, a person's page, and their details and risk."""
from datetime import datetime

from flask import current_app, flash, request, url_for
from flask_login import current_user, login_required

from app import db
from app.caseload import bp, presenters
from app.caseload.forms import NewPersonForm, PersonForm, RiskForm, SearchForm
from app.models.types import utcnow
from app.record import PersonView, Window, registry
from app.services import ValidationError
from app.services import audit as audit_service
from app.services import people
from app.services.access import NotFound, require_admin, require_team
from app.web import audit, offline_copy, render, see_other, show_errors, wants_fragment, zone



def _filters(form: SearchForm) -> people.CaseloadFilter:
    return people.CaseloadFilter(mine_only=form.scope.data == "mine", status=form.status.data or "open",
                                 risk=form.risk.data or None, overdue_only=form.overdue.data == "1",
                                 query=form.q.data or "")


@bp.route("/caseload", methods=["GET", "POST"])
@login_required
def index():
    """GET shows the list; the search box POSTs (htmx, as you type) so names never sit in a URL."""
    require_team(current_user)
    form = SearchForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and not form.validate():
        raise NotFound
    now = utcnow()
    found = people.caseload_page(db.session(), current_user, _filters(form), now=now, page=form.page.data or 1)
    if form.q.data:
        audit("caseload.search", record_type="team", record_id=current_user.team_id)
        db.session().commit()
    # "Show more" (htmx) swaps the next page's rows in for its own button; a search swaps the list.
    return render("caseload/index.html", "caseload/_rows.html" if found.page > 1 else "caseload/_list.html",
                  form=form, found=found, rows=[presenters.caseload_row(r, now) for r in found.rows],
                  summary=presenters.caseload_summary(found), more_label=presenters.more_label(found))


@bp.get("/caseload/offline")
@login_required
@offline_copy
def offline():
    """What the phone keeps for no signal: my people's names, risk and flags, nothing more."""
    require_team(current_user)
    now = utcnow()
    mine = people.caseload_page(db.session(), current_user, people.CaseloadFilter(mine_only=True), now=now,
                                size=people.OFFLINE_LIMIT)
    return render("caseload/offline.html", rows=[presenters.caseload_row(r, now) for r in mine.rows])


def _key_worker_choices(form):
    workers = people.team_workers(db.session(), current_user.team_id)
    form.key_worker_id.choices = [("", "Nobody yet")] + [(str(w.id), w.name) for w in workers]


def _details(form, status: str = "open") -> people.PersonDetails:
    return people.PersonDetails(
        name=form.name.data or "", known_as=form.known_as.data, pronouns=form.pronouns.data,
        date_of_birth=form.date_of_birth.data, phone=form.phone.data, address=form.address.data,
        status=status, consent_to_share=form.consent_to_share.data,
        consent_recorded_on=form.consent_recorded_on.data, sms_reminders=bool(form.sms_reminders.data),
        before_you_visit=form.before_you_visit.data,
        key_worker_id=form.key_worker_id.data)


def _risk(form) -> people.RiskUpdate:
    return people.RiskUpdate(level=form.risk_level.data, flags=list(form.flags.data or []),
                             flag_other=form.flag_other.data, reason=form.reason.data or "")


@bp.route("/people/new", methods=["GET", "POST"])
@login_required
def new_person():
    require_team(current_user)
    form = NewPersonForm()
    _key_worker_choices(form)
    if request.method == "GET":
        form.key_worker_id.data = current_user.id
    if request.method == "POST" and form.validate():
        db_session = db.session()
        try:
            person = people.create_person(db_session, current_user, _details(form), _risk(form), now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("person.create", record_type="person", record_id=person.id)
            db_session.commit()
            return see_other(url_for("caseload.person", person_id=person.id))
    return render("caseload/person_form.html", form=form, person=None, status=422 if request.method == "POST" else 200)


def _before(value: str | None) -> datetime | None:
    """Where an earlier page of the timeline starts (a moment in the link; anything else: the newest)."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


@bp.get("/people/<int:person_id>")
@login_required
def person(person_id: int):
    """The hub of a person's record: their details, then what each feature put on the record. The
    timeline comes a page at a time: "Earlier entries" (htmx) appends the next page."""
    db_session = db.session()
    found = people.get_person(db_session, current_user, person_id)
    audit("person.view", record_type="person", record_id=found.id)
    db_session.commit()
    now = utcnow()
    window = Window(before=_before(request.args.get("before")))
    view = PersonView(db_session, current_user, found, now, zone(), window)
    record = registry(current_app)
    timeline = record.timeline_for(view)
    if window.before is not None and wants_fragment():
        return render("caseload/_timeline.html", person=found, timeline=timeline, authors=view.authors,
                      zone=view.zone, local=presenters.local_date, earlier_page=True)
    return render("caseload/person.html", person=found, row=presenters.row(found, now),
                  cards=record.cards_for(view), timeline=timeline, authors=view.authors,
                  earlier_page=window.before is not None,
                  key_worker=view.authors.get(found.key_worker_id), zone=view.zone, local=presenters.local_date,
                  consent_label=people.CONSENT_LABELS[found.consent_to_share])


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit_person(person_id: int):
    db_session = db.session()
    found = people.get_person(db_session, current_user, person_id)
    form = PersonForm(obj=found if request.method == "GET" else None)
    _key_worker_choices(form)
    if request.method == "POST" and form.validate():
        try:
            changed = people.update_person(db_session, found, _details(form, found.status), now=utcnow(),
                                           by=current_user)
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            if changed:
                audit("person.update", record_type="person", record_id=found.id, detail="changed=" + ",".join(changed))
                db_session.commit()
            return see_other(url_for("caseload.person", person_id=found.id))
    return render("caseload/person_form.html", form=form, person=found, status=422 if request.method == "POST" else 200)


@bp.route("/people/<int:person_id>/risk", methods=["GET", "POST"])
@login_required
def risk(person_id: int):
    db_session = db.session()
    found = people.get_person(db_session, current_user, person_id)
    form = RiskForm()
    if request.method == "GET":
        form.risk_level.data, form.flags.data, form.flag_other.data = found.risk_level, found.flags, found.flag_other
    if request.method == "POST" and form.validate():
        try:
            changed = people.change_risk(db_session, found, current_user, _risk(form), now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("person.risk_review", record_type="person", record_id=found.id,
                  detail="changed" if changed else "reviewed, no change")
            db_session.commit()
            saved = "Risk review saved." if changed else "Risk reviewed: no change."
            if request.args.get("then") == "refer":  # a contact with a safeguarding concern too
                flash(f"{saved} Make the safeguarding referral now.")
                return see_other(url_for("referrals.choose", person_id=found.id))
            flash(saved)
            return see_other(url_for("caseload.person", person_id=found.id))
    return render("caseload/risk.html", form=form, person=found, status=422 if request.method == "POST" else 200)


@bp.get("/admin/people/<int:person_id>/audit")
@login_required
def person_audit(person_id: int):
    require_admin(current_user)
    db_session = db.session()
    events = audit_service.trail(db_session, record_type="person", record_id=person_id)
    if not events:
        raise NotFound
    audit("audit.view", record_type="person", record_id=person_id)
    db_session.commit()
    return render("admin/audit.html", subject=f"person #{person_id}", events=events,
                  action_label=audit_service.action_label)
