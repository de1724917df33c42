"""Appointments: create and change them, record what happened, the team's week, the calendar feed."""
from datetime import date, datetime, timedelta

from flask import flash, make_response, request, url_for
from flask_login import current_user, login_required
from icalendar import Calendar, Event
from sqlmodel import select
from wtforms.fields.choices import SelectChoice

from app import db
from app.auth.sudo import ask_to_confirm, recently_confirmed
from app.appointments import bp
from app.appointments.forms import AppointmentForm, MoveForm, OutcomeForm, RemindersForm, WeekForm
from app.extensions import limiter
from app.forms import record_id
from app.models import AppointmentOccurrence, Person, User
from app.models.types import utcnow
from app.services import ValidationError, people
from app.services import appointments as service
from app.services import orders
from app.orders.forms import EnforceableOutcomeForm
from app.services.access import NotFound, require_team
from app.services.calendar import moment_from_link
from app.services.calendar_feed import calendar_owner, initials, new_calendar_token
from app.web import audit, render, see_other, show_errors, zone


def _person_choices(form: AppointmentForm) -> None:
    form.person_id.choices = [SelectChoice("", "Choose a person")] + [
        SelectChoice(str(p.id), p.name + (f" ({p.known_as})" if p.known_as else ""))
        for p in people.visit_choices(db.session(), current_user)]


def _details(form: AppointmentForm) -> service.Details:
    return service.Details(person_id=form.person_id.data, kind=form.kind.data or "",
                           starts_local=form.starts_local.data, duration_minutes=form.duration_minutes.data,
                           place=form.place.data, notes=form.notes.data, repeat=form.repeat.data or "none",
                           repeat_until=form.repeat_until.data)


def _occurrence_moment(value: str | None) -> datetime:
    moment = moment_from_link(value)
    if moment is None:
        raise NotFound
    return moment


def _tell_about_clashes(appointment) -> None:
    found = service.clashes(db.session(), appointment.worker_id, appointment, zone())
    if found:
        first = found[0]
        flash(f"Note: this clashes with another appointment on {first.starts_local.strftime('%a %-d %b at %H:%M')}"
              + (f" and {len(found) - 1} more." if len(found) > 1 else "."))


@bp.route("/appointments/new", methods=["GET", "POST"])
@login_required
def new():
    require_team(current_user)
    form = AppointmentForm()
    _person_choices(form)
    if request.method == "GET" and (person_id := record_id(request.args.get("person"))) is not None:
        person = people.get_person(db.session(), current_user, person_id)
        form.person_id.data, form.place.data = person.id, person.address
    if request.method == "POST" and form.validate():
        db_session = db.session()
        try:
            appointment = service.create(db_session, current_user, _details(form), now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("appointment.create", record_type="appointment", record_id=appointment.id)
            db_session.commit()
            flash("Appointment saved.")
            _tell_about_clashes(appointment)
            return see_other(_where_it_is(appointment))
    return render("appointments/form.html", form=form, appointment=None,
                  status=422 if request.method == "POST" else 200)


@bp.route("/appointments/<int:appointment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(appointment_id: int):
    db_session = db.session()
    appointment = service.get_appointment(db_session, current_user, appointment_id)
    form = AppointmentForm(obj=appointment if request.method == "GET" else None)
    _person_choices(form)
    if request.method == "POST" and form.validate():
        try:
            service.update_series(db_session, appointment, current_user, _details(form), now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("appointment.update", record_type="appointment", record_id=appointment.id)
            db_session.commit()
            flash("Appointment series updated.")
            _tell_about_clashes(appointment)
            return see_other(_where_it_is(appointment))
    return render("appointments/form.html", form=form, appointment=appointment,
                  status=422 if request.method == "POST" else 200)


@bp.post("/appointments/<int:appointment_id>/cancel")
@login_required
def cancel(appointment_id: int):
    db_session = db.session()
    appointment = service.get_appointment(db_session, current_user, appointment_id)
    service.cancel_series(appointment, now=utcnow())
    audit("appointment.cancel", record_type="appointment", record_id=appointment.id)
    db_session.commit()
    flash("Appointment cancelled: its reminders will not be sent.")
    return see_other(url_for("home.index"))


def _where_it_is(appointment, occurrence: service.Occurrence | None = None) -> str:
    """After saving, the page that shows it: Today when it is today, else its own page (its next
    occurrence, or the one just changed)."""
    today = utcnow().astimezone(zone()).date()
    if occurrence is None:
        occurrence = service.next_occurrence(db.session(), appointment, today, zone())
    if occurrence is None or occurrence.starts_local.date() == today:
        return url_for("home.index")
    return url_for("appointments.show", appointment_id=appointment.id,
                   on=occurrence.original_local.isoformat(timespec="minutes"))


def _occurrence(appointment, on: datetime) -> service.Occurrence:
    found = [o for o in service.occurrences(db.session(), [appointment], on - timedelta(days=62),
                                            on + timedelta(days=62), zone()) if o.original_local == on]
    if not found:
        raise NotFound
    return found[0]


@bp.get("/appointments/<int:appointment_id>")
@login_required
def show(appointment_id: int):
    db_session = db.session()
    appointment = service.get_appointment(db_session, current_user, appointment_id)
    occurrence = _occurrence(appointment, _occurrence_moment(request.args.get("on")))
    audit("appointment.view", record_type="appointment", record_id=appointment.id)
    db_session.commit()
    return _page(appointment, occurrence)


def _page(appointment, occurrence, refused: OutcomeForm | MoveForm | None = None, status: int = 200):
    """The appointment's page; after a refused outcome or change, that form with what was typed and
    what to fix."""
    from app.caseload import presenters as caseload_presenters

    on = occurrence.original_local.isoformat(timespec="minutes")
    outcome_form = refused if isinstance(refused, OutcomeForm) else OutcomeForm(formdata=None, on=on)
    move_form = refused if isinstance(refused, MoveForm) else MoveForm(
        formdata=None, on=on, starts_local=occurrence.starts_local, place=occurrence.place)
    person = db.session().get(Person, appointment.person_id)
    # An instruction under an order records the enforceable outcome set instead (app/orders).
    enforceable = orders.enforceable_link(db.session(), appointment.id)
    if enforceable is not None:
        outcome_form = refused if isinstance(refused, EnforceableOutcomeForm) else EnforceableOutcomeForm(
            formdata=None, on=on)
    return render("appointments/show.html", status=status, appointment=appointment, occurrence=occurrence,
                  enforceable=enforceable,
                  person=person, row=caseload_presenters.row(person, utcnow()),
                  kind_label=service.KIND_LABELS[appointment.kind],
                  repeat_label=service.REPEAT_LABELS[appointment.repeat],
                  outcome_label=service.OUTCOME_LABELS.get(occurrence.outcome or ""),
                  outcome_form=outcome_form, move_form=move_form, on=on)


@bp.post("/appointments/<int:appointment_id>/outcome")
@login_required
def outcome(appointment_id: int):
    db_session = db.session()
    appointment = service.get_appointment(db_session, current_user, appointment_id)
    form = OutcomeForm()
    on = _occurrence_moment(form.on.data)
    if orders.enforceable_link(db_session, appointment.id) is not None:
        # An instruction under an order: its outcome goes on the compliance record (app/orders).
        refused = EnforceableOutcomeForm(formdata=None, on=form.on.data)
        refused.form_errors.append("This appointment is an instruction under an order: choose one of its outcomes.")
        return _page(appointment, _occurrence(appointment, on), refused=refused, status=422)
    if form.validate():
        try:
            service.record_outcome(db_session, appointment, on, current_user, outcome=form.outcome.data or "",
                                   note=form.note.data, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("appointment.outcome", record_type="appointment", record_id=appointment.id,
                  detail=form.outcome.data)
            db_session.commit()
            missed = form.outcome.data == "did_not_attend"
            flash("Outcome saved." + (" A follow-up is on your Today page." if missed else ""))
            return see_other(url_for("home.index") if missed else _where_it_is(appointment, _occurrence(appointment, on)))
    db_session.rollback()
    return _page(appointment, _occurrence(appointment, on), refused=form, status=422)


@bp.post("/appointments/<int:appointment_id>/move")
@login_required
def move(appointment_id: int):
    db_session = db.session()
    appointment = service.get_appointment(db_session, current_user, appointment_id)
    form = MoveForm()
    on = _occurrence_moment(form.on.data)
    if form.validate():
        try:
            service.move_occurrence(db_session, appointment, on, starts_local=form.starts_local.data,
                                    place=form.place.data, cancelled=form.cancel.data)
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("appointment.change_one", record_type="appointment", record_id=appointment.id)
            db_session.commit()
            flash("This appointment was cancelled." if form.cancel.data else "This appointment was moved.")
            return see_other(url_for("home.index") if form.cancel.data
                             else _where_it_is(appointment, _occurrence(appointment, on)))
    db_session.rollback()
    return _page(appointment, _occurrence(appointment, on), refused=form, status=422)


@bp.post("/appointments/follow-ups/<int:occurrence_id>/done")
@login_required
def follow_up_done(occurrence_id: int):
    db_session = db.session()
    record = db_session.get(AppointmentOccurrence, occurrence_id)
    if record is None:
        raise NotFound
    appointment = service.get_appointment(db_session, current_user, record.appointment_id)
    record.follow_up_done_at = utcnow()
    audit("appointment.follow_up", record_type="appointment", record_id=appointment.id)
    db_session.commit()
    flash("Follow-up marked as done.")
    return see_other(url_for("home.index"))


@bp.get("/appointments/team")
@login_required
def team_week():
    """The team's appointments for a week (supervisors)."""
    require_team(current_user)
    if current_user.role != "supervisor":
        raise NotFound
    form = WeekForm(request.args)
    today = utcnow().astimezone(zone()).date()
    first = form.week.data if form.validate() and form.week.data else today
    first = first - timedelta(days=first.weekday())
    start = datetime.combine(first, datetime.min.time())
    db_session = db.session()
    end = start + timedelta(days=7)
    found = service.occurrences(db_session, service.series_for_team(db_session, current_user.team_id, (start, end)),
                                start, end, zone(), team_id=current_user.team_id)
    names = people.team_worker_names(db_session, current_user.team_id, active_only=False)
    person_names = people.team_names(db_session, current_user)
    kind_labels = service.KIND_LABELS
    # Each row as the words it shows, made here in one pass: hundreds of rows, and a row drawn
    # from objects costs the template a dozen look-ups and calls.
    by_day = {}
    for o in found:
        by_day.setdefault(o.starts_local.date(), []).append((
            o.starts_local.strftime("%H:%M"), kind_labels[o.appointment.kind],
            person_names.get(o.appointment.person_id, ""), names.get(o.appointment.worker_id, ""), o.cancelled,
            o.outcome))
    days = [(first + timedelta(days=n), by_day.get(first + timedelta(days=n), [])) for n in range(7)]
    from app.services.groups import sessions_between

    meetings = sessions_between(db_session, current_user.team_id, start, end)
    group_days = {day: [(m, g) for m, g in meetings if m.starts_local.date() == day] for day, _ in days}
    return render("appointments/team.html", days=days, group_days=group_days, outcome_labels=service.OUTCOME_LABELS,
                  first=first, previous=(first - timedelta(days=7)).isoformat(),
                  following=(first + timedelta(days=7)).isoformat())


@bp.route("/settings/calendar", methods=["GET", "POST"])
@login_required
def calendar_settings():
    require_team(current_user)
    feed_url = None
    if request.method == "POST" and not recently_confirmed():
        return ask_to_confirm(url_for("appointments.calendar_settings"))  # a new feed address: confirm it's you
    if request.method == "POST":
        db_session = db.session()
        user = db_session.get(User, current_user.id)
        token = new_calendar_token(user)
        audit("calendar.new_link", record_type="user", record_id=user.id)
        db_session.commit()
        feed_url = url_for("appointments.calendar_feed", token=token, _external=True)
    # What is stored, never this request's fields (making an address posts none of the reminders').
    return _calendar_page(RemindersForm(formdata=None, obj=current_user), feed_url)


def _calendar_page(reminders: RemindersForm, feed_url: str | None = None, status: int = 200):
    return render("appointments/calendar.html", status=status, feed_url=feed_url,
                  has_feed=bool(current_user.calendar_token_hash), reminders=reminders)


@bp.post("/settings/reminders")
@login_required
def reminder_settings():
    require_team(current_user)
    form = RemindersForm()
    if not form.validate():
        return _calendar_page(form, status=422)
    db_session = db.session()
    user = db_session.get(User, current_user.id)
    user.remind_evening_before = bool(form.remind_evening_before.data)
    user.remind_minutes_before = form.remind_minutes_before.data
    audit("user.reminders", record_type="user", record_id=user.id)
    db_session.commit()
    flash("Reminder times saved.")
    return see_other(url_for("appointments.calendar_settings"))


@bp.get("/calendar/<token>.ics")
@limiter.limit("60/minute")
def calendar_feed(token: str):
    """The worker's appointments for a phone's calendar: initials and kind only, no names or places."""
    db_session = db.session()
    owner = calendar_owner(db_session, token)
    today = utcnow().astimezone(zone()).date()
    start = datetime.combine(today - timedelta(days=30), datetime.min.time())
    found = service.occurrences(db_session, service.for_worker(db_session, owner.id), start,
                                start + timedelta(days=120), zone())
    person_names = {p.id: p.name for p in db_session.exec(
        select(Person).where(Person.team_id == owner.team_id)).all()}
    calendar = Calendar()
    calendar.add("prodid", "-//Fieldline//appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Fieldline appointments")
    for occurrence in found:
        if occurrence.cancelled:
            continue
        event = Event()
        event.add("uid", f"{occurrence.appointment.id}-{occurrence.original_local:%Y%m%dT%H%M}@fieldline")
        event.add("summary", f"{initials(person_names.get(occurrence.appointment.person_id, '?'))} — "
                             f"{service.KIND_LABELS[occurrence.appointment.kind]}")
        event.add("dtstart", occurrence.starts_at)
        event.add("dtend", occurrence.ends_at)
        event.add("dtstamp", utcnow())
        calendar.add_component(event)
    response = make_response(calendar.to_ical())
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def start_visit_prefill(appointment_id: int, on: str | None):
    """For Start visit: (person, place, minutes) of an appointment's occurrence the user may see."""
    appointment = service.get_appointment(db.session(), current_user, appointment_id)
    occurrence = _occurrence(appointment, _occurrence_moment(on)) if on else None
    place = occurrence.place if occurrence else appointment.place
    return appointment.person_id, place, appointment.duration_minutes


def today_view(worker, day: date):
    """What Today shows from appointments: the agenda and did-not-attend follow-ups."""
    db_session = db.session()
    agenda = service.agenda(db_session, worker, day, zone())
    follow = service.follow_ups(db_session, worker)
    ids = {o.appointment.person_id for o in agenda} | {a.person_id for _, a in follow}
    persons = {p.id: p for p in db_session.exec(
        select(Person).where(Person.id.in_(ids))).all()} if ids else {}
    return agenda, follow, persons
