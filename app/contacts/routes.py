"""Log contact (fast, from the bottom bar or a person's page), a contact's page, corrections, photos."""
from datetime import datetime

from flask import current_app, flash, request, send_file, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from app import db
from app.caseload import presenters
from app.caseload.forms import SearchForm
from app.contacts import bp
from app.contacts.forms import AddendumForm, ContactForm, DeleteForm, MatchForm
from app.forms import record_id
from app.models import Contact, ContactAddendum, ContactVersion, Person, Photo
from app.models.types import utcnow
from app.services import ValidationError
from app.services import contacts as contacts_service
from app.services import delivery as delivery_service
from app.services import people, photos, plans
from app.services.access import NotFound, require_team
from app.services.safety import team_supervisors
from app.web import audit, offline_copy, render, see_other, show_errors


def _settings():
    return current_app.extensions["fieldline.settings"]


def _local_to_utc(moment: datetime | None) -> datetime | None:
    """The worker types local wall-clock time; it is stored as UTC."""
    return moment.replace(tzinfo=_settings().zone) if moment else None


def _entry(form: ContactForm) -> contacts_service.ContactEntry:
    person_id = record_id(form.person_id.data)
    return contacts_service.ContactEntry(
        person_id=person_id, street_description=form.street_description.data, contact_type=form.contact_type.data,
        happened_at=_local_to_utc(form.happened_at.data), duration_minutes=form.duration_minutes.data,
        location_text=form.location_text.data, latitude=form.latitude.data, longitude=form.longitude.data,
        needs=list(form.needs.data or []), notes=form.notes.data or "", actions_agreed=form.actions_agreed.data,
        follow_up_on=form.follow_up_on.data, safeguarding_concern=form.safeguarding_concern.data,
        risk_changed=form.risk_changed.data)


def _person_choices(db_session, chosen: Person | None):
    recent = contacts_service.recent_people(db_session, current_user)
    mine = people.caseload(db_session, current_user, people.CaseloadFilter(mine_only=True), now=utcnow(), limit=30)
    seen, options = set(), []
    for person in ([chosen] if chosen else []) + recent + mine:
        if person is not None and person.id not in seen and person.team_id == current_user.team_id:
            seen.add(person.id)
            options.append(presenters.row(person, utcnow()))
    return options


@bp.route("/contacts/new", methods=["GET", "POST"])
@login_required
@offline_copy
def new():
    require_team(current_user)
    form = ContactForm()
    if request.method == "GET":
        form.happened_at.data = utcnow().astimezone(_settings().zone).replace(tzinfo=None, second=0, microsecond=0)
        # The phone puts in its own "now" when it shows the form (a copy kept for no signal is older).
        form.happened_at.render_kw = {**(form.happened_at.render_kw or {}), "data-default-now": ""}
        if record_id(request.args.get("person")) is not None:
            form.person_id.data = request.args["person"]
    # The form and the photos are checked before the first query: on SQLite that query takes the
    # database's one write lock, and every check-in would wait while photos are decoded.
    valid = request.method == "POST" and form.validate()
    stored, photo_errors = _store_photos() if valid else ([], {})
    contact = None
    try:
        contact = _save(form, stored, photo_errors) if valid else None
    finally:
        if contact is None:  # not saved (refused, or failed): its photos go too
            photos.discard(stored, _uploads_folder())
    if contact is not None:
        photos.keep(stored, _uploads_folder())  # only now: a process killed before this leaves them to the sweep
        return _answer_saved(contact)
    chosen, person = _chosen_person(form)
    options = _person_choices(db.session(), person)
    return render("contacts/new.html", form=form, options=options, chosen=chosen, search=SearchForm(),
                  goals=_goals(options), worked_on=_worked_on(), status=422 if request.method == "POST" else 200)


def _goals(options) -> dict:
    """Each listed person's open goals, for "Worked on": the page shows the chosen person's (CSS, so
    the copy kept for no signal offers them too); the server ignores any goal not the contact's person's."""
    return plans.open_goals(db.session(), [row.id for row in options], current_user.team_id)


def _worked_on() -> list[int]:
    return [goal_id for goal_id in map(record_id, request.form.getlist("worked_on")) if goal_id is not None]


def _chosen_person(form: ContactForm) -> tuple[int | None, Person | None]:
    """The person the form names, if any (another team's person: 404)."""
    chosen = record_id(form.person_id.data)
    return chosen, people.get_person(db.session(), current_user, chosen) if chosen is not None else None


def _uploads_folder():
    return photos.uploads_folder(_settings().instance_path)


def _photo_limits() -> photos.Limits:
    settings = _settings()
    return photos.Limits(settings.max_photos_per_contact, settings.photo_megapixels_per_request * 1_000_000)


def _store_photos() -> tuple[list[photos.StoredPhoto], dict[str, str]]:
    """The request's photos, decoded and stored under pending names, or what is wrong with them.
    photos.Busy (another request is decoding) goes on to the error page: 503, sent again later."""
    uploads = [upload.read() for upload in request.files.getlist("photos") if upload and upload.filename]
    folder, stored = _uploads_folder(), []
    try:
        images = photos.check(uploads, _photo_limits())
        if images:  # no lock to take for a contact without photos
            with photos.decoding_slot(_settings().instance_path):
                for image in images:
                    stored.append(photos.store(image, folder))
    except ValidationError as error:
        photos.discard(stored, folder)
        return [], error.errors
    except BaseException:
        photos.discard(stored, folder)
        raise
    return stored, {}


def _save(form: ContactForm, stored: list[photos.StoredPhoto], photo_errors: dict[str, str]) -> Contact | None:
    """Record the contact and its photos and commit; None when the form must be shown again."""
    db_session = db.session()
    # Held while the contact is logged: the session's identity map keeps a row only while something
    # refers to it, and the service's checks and updates then reuse it instead of loading it again.
    _, held_person = _chosen_person(form)
    try:
        contact = contacts_service.log_contact(db_session, current_user, _entry(form), now=utcnow())
    except ValidationError as error:
        db_session.rollback()
        show_errors(form, {**error.errors, **photo_errors})
        return None
    if photo_errors:
        db_session.rollback()
        show_errors(form, photo_errors)
        return None
    plans.worked_on(db_session, current_user, contact.person_id, _worked_on(), contact.id, contact.notes,
                    now=utcnow())
    for item in stored:
        db_session.add(Photo(contact_id=contact.id, uploaded_by_id=current_user.id, created_at=utcnow(),
                             **item.__dict__))
    if contact.safeguarding_concern:
        _tell_supervisors(db_session, contact.id)
    audit("contact.create", record_type="contact", record_id=contact.id,
          detail=f"photos={len(stored)}" if stored else None)
    db_session.commit()
    return contact


def _answer_saved(contact: Contact):
    if contact.risk_changed and contact.person_id and contact.safeguarding_concern:
        # Both: the risk review first, then on to the referral (`then` names a step, never a person).
        flash("Contact saved and your supervisor told. Review the person's risk, then make the safeguarding referral.")
        return see_other(url_for("caseload.risk", person_id=contact.person_id, then="refer"))
    if contact.risk_changed and contact.person_id:
        flash("Contact saved. Review the person's risk now.")
        return see_other(url_for("caseload.risk", person_id=contact.person_id))
    if contact.safeguarding_concern and contact.person_id:
        flash("Contact saved and your supervisor told. Make the safeguarding referral now.")
        return see_other(url_for("referrals.choose", person_id=contact.person_id))
    flash("Contact saved.")
    return see_other(url_for("caseload.person", person_id=contact.person_id) if contact.person_id
                     else url_for("contacts.show", contact_id=contact.id))


def _tell_supervisors(db_session, contact_id: int) -> None:
    message = delivery_service.Message(kind="referral", event_ref=f"contact:{contact_id}:safeguarding",
                                       title="Safeguarding concern logged", body="Open Fieldline to review it.",
                                       url=url_for("contacts.show", contact_id=contact_id))
    for supervisor in team_supervisors(db_session, current_user.team_id):
        delivery_service.enqueue(db_session, message, supervisor, now=utcnow())


@bp.post("/contacts/people")
@login_required
def people_search():
    """As-you-type person search on Log contact (POST: the typed name stays out of URLs)."""
    require_team(current_user)
    form = SearchForm(formdata=request.form)
    found = people.caseload(db.session(), current_user, people.CaseloadFilter(query=form.q.data or ""),
                            now=utcnow(), limit=20) if (form.q.data or "").strip() else []
    options = [presenters.row(p, utcnow()) for p in found]
    return render("contacts/_people_options.html", options=options, goals=_goals(options), worked_on=[])


@bp.get("/contacts/<int:contact_id>")
@login_required
def show(contact_id: int):
    db_session = db.session()
    contact = contacts_service.get_contact(db_session, current_user, contact_id)
    audit("contact.view", record_type="contact", record_id=contact.id)
    db_session.commit()
    return _page(contact)


_FORMS = {"addendum_form": AddendumForm, "delete_form": DeleteForm, "match_form": MatchForm}


def _page(contact: Contact, refused=None, status: int = 200):
    """The contact's page; after a refused addendum, removal or match, that form with what was typed
    and what to fix."""
    db_session = db.session()
    forms = {name: refused if isinstance(refused, kind) else kind(formdata=None) for name, kind in _FORMS.items()}
    person = db_session.get(Person, contact.person_id) if contact.person_id else None
    names = {w.id: w.name for w in people.team_workers(db_session, contact.team_id)}
    versions = db_session.exec(select(ContactVersion).where(ContactVersion.contact_id == contact.id)
                               .order_by(ContactVersion.version.desc())).all()
    addenda = db_session.exec(select(ContactAddendum).where(ContactAddendum.contact_id == contact.id)
                              .order_by(ContactAddendum.at)).all()
    return render("contacts/show.html", status=status, contact=contact, person=person, names=names,
                  versions=versions, addenda=addenda,
                  photos=contacts_service.photos_for(db_session, [contact.id]).get(contact.id, []),
                  can_correct=contacts_service.can_correct(contact, current_user, utcnow()),
                  is_supervisor=current_user.role == "supervisor", zone=_settings().zone, local=presenters.local_date,
                  type_label=contacts_service.TYPE_LABELS[contact.contact_type],
                  needs=[contacts_service.NEED_LABELS[n] for n in contact.needs], search=SearchForm(), **forms)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contact_id: int):
    db_session = db.session()
    contact = contacts_service.get_contact(db_session, current_user, contact_id)
    if not contacts_service.can_correct(contact, current_user, utcnow()):
        flash("This contact can no longer be changed. Add an addendum instead.")
        return see_other(url_for("contacts.show", contact_id=contact.id))
    form = ContactForm(obj=contact if request.method == "GET" else None)
    if request.method == "GET":
        form.happened_at.data = contact.happened_at.astimezone(_settings().zone).replace(tzinfo=None)
    if request.method == "POST" and form.validate():
        try:
            changed = contacts_service.correct(db_session, contact, current_user, _entry(form), now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            if changed:
                audit("contact.correct", record_type="contact", record_id=contact.id, detail="changed=" + ",".join(changed))
                db_session.commit()
            flash("Contact corrected." if changed else "Nothing changed.")
            return see_other(url_for("contacts.show", contact_id=contact.id))
    return render("contacts/edit.html", form=form, contact=contact, status=422 if request.method == "POST" else 200)


def _contact_action(contact_id: int, form, act, action: str):
    db_session = db.session()
    contact = contacts_service.get_contact(db_session, current_user, contact_id)
    if form.validate():
        try:
            act(db_session, contact, form)
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit(action, record_type="contact", record_id=contact.id)
            db_session.commit()
            flash("Saved.")
            return see_other(url_for("contacts.show", contact_id=contact.id))
    db_session.rollback()
    return _page(contact, refused=form, status=422)


@bp.post("/contacts/<int:contact_id>/addendum")
@login_required
def addendum(contact_id: int):
    return _contact_action(contact_id, AddendumForm(), lambda s, c, f: contacts_service.add_addendum(
        s, c, current_user, f.text.data, now=utcnow()), "contact.addendum")


@bp.post("/contacts/<int:contact_id>/delete")
@login_required
def delete(contact_id: int):
    if current_user.role != "supervisor":
        raise NotFound
    return _contact_action(contact_id, DeleteForm(), lambda s, c, f: contacts_service.soft_delete(
        s, c, current_user, f.reason.data, now=utcnow()), "contact.delete")


@bp.post("/contacts/<int:contact_id>/match")
@login_required
def match(contact_id: int):
    return _contact_action(contact_id, MatchForm(), lambda s, c, f: contacts_service.match_to_person(
        s, c, current_user, record_id(f.person_id.data) or -1, now=utcnow()),
        "contact.match")


def _send_photo(photo_id: int, thumb: bool):
    db_session = db.session()
    photo = contacts_service.get_photo(db_session, current_user, photo_id)
    audit("photo.view", record_type="photo", record_id=photo.id)
    db_session.commit()
    name = photo.thumb_stored_as if thumb else photo.stored_as
    response = send_file(photos.uploads_folder(_settings().instance_path) / name, mimetype="image/jpeg",
                         max_age=0, conditional=False, etag=False)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    return _send_photo(photo_id, thumb=False)


@bp.get("/photos/<int:photo_id>/thumb")
@login_required
def thumb(photo_id: int):
    return _send_photo(photo_id, thumb=True)
