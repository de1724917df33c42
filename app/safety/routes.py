"""Visits for workers; the board, alerts and team settings for supervisors. Rules live in services."""
from datetime import datetime

from flask import flash, jsonify, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice
from sqlmodel import select

from app import db
from app.auth.sudo import ask_to_confirm, recently_confirmed
from app.models import Person, Team, User, Visit
from app.models.types import utcnow
from app.caseload import presenters as caseload_presenters
from app.console.presenters import gap_lines
from app.forms import record_id
from app.safety import bp, presenters
from app.safety.forms import (PRESETS, CrisisForm, ExtendForm, PinForm, ResolveForm, SafetySettingsForm, StartVisitForm,
                              TeamSafetyForm)
from app.services import ValidationError, alert_access, compliance_board, people, rota, safety
from app.services.access import NotFound, require_team
from app.services.calendar import within_calendar
from app.services.users import TeamSettings, update_team
from app.web import audit, offline_copy, own_team, render, see_other, show_errors, zone

CHECKED_IN = "Checked in. Next check-in by {due}."



def _team() -> Team:
    require_team(current_user)
    return own_team()



def _made_at(form) -> datetime | None:
    """When the worker tapped the button, if the phone says (a queued offline send arrives later)."""
    try:
        moment = datetime.fromisoformat(form.made_at.data) if form.made_at.data else None
    except ValueError:
        return None
    now = utcnow()
    if moment is None or moment.tzinfo is None or not within_calendar(moment) or moment > now:
        return None
    return moment


def register_visit_bar(app) -> None:
    @app.context_processor
    def running_visit_bar():
        if not current_user.is_authenticated or current_user.role != "worker" or request.endpoint == "static":
            return {}
        db_session = db.session()
        visit = safety.running_visit(db_session, current_user.id)
        if visit is None:
            return {"running_visit": None}
        return {"running_visit": presenters.visit_view(visit, current_user, own_team(), zone(), utcnow(),
                                                       safety.open_crisis_alarm(db_session, current_user.id)),
                "pin_form": PinForm()}


# ---- the worker ----

@bp.route("/visits/new", methods=["GET", "POST"])
@login_required
def start():
    db_session = db.session()
    team = _team()
    form = StartVisitForm()
    form.person_id.choices = [SelectChoice("", "Nobody on the caseload")] + [
        SelectChoice(str(p.id), p.name + (f" ({p.known_as})" if p.known_as else ""))
        for p in people.visit_choices(db_session, current_user)]
    if request.method == "GET" and (person_id := record_id(request.args.get("person"))) is not None:
        form.person_id.data = person_id
    prefill = None
    if request.method == "GET" and (appointment_id := record_id(request.args.get("appointment"))) is not None:
        from app.appointments.routes import start_visit_prefill

        prefill = start_visit_prefill(appointment_id, request.args.get("on"))
        form.person_id.data = prefill[0]
        form.minutes.data = str(prefill[2]) if prefill[2] in PRESETS else "custom"
        form.custom_minutes.data = None if prefill[2] in PRESETS else prefill[2]
    person = None
    if form.person_id.data:
        # The choices already hold only the team's people; get_person is the one access rule.
        person = people.get_person(db_session, current_user, form.person_id.data)
        if request.method == "GET":
            form.place.data = (prefill[1] if prefill and prefill[1] else None) or person.address
    if request.method == "POST" and form.validate():
        try:
            visit = safety.start_visit(db_session, current_user, team, safety.VisitRequest(
                place=form.place.data, minutes=form.chosen_minutes(), every_minutes=form.every_minutes.data,
                sealed_notes=form.sealed_notes.data, latitude=form.latitude.data, longitude=form.longitude.data,
                accuracy=form.accuracy.data, person=person), now=utcnow())
        except ValidationError as error:
            show_errors(form, {("custom_minutes" if k == "minutes" and form.minutes.data == "custom" else k): v
                                for k, v in error.errors.items()})
        else:
            audit("visit.start", record_type="visit", record_id=visit.id)
            db_session.commit()
            flash(f"Visit started. Check in by {presenters.local(visit.due_at, zone())}.")
            return see_other(url_for("home.index"))
    return render("safety/start.html", form=form, team=team, warning=safety.visit_warning(person) if person else None,
                  status=422 if request.method == "POST" else 200)


def _visit_action(visit_id: int, form, action, extra):
    # The form is checked, and a PIN hashed, before the first query: on SQLite that query takes the
    # database's one write lock, which every other check-in is waiting for.
    valid = form.validate()
    arguments = extra(form) if valid else {}
    db_session = db.session()
    team = _team()
    visit = safety.own_visit(db_session, current_user, visit_id)
    if not valid:
        errors = {name: messages[0] for name, messages in form.errors.items()}
    else:
        try:
            action(db_session, current_user, team, visit, now=utcnow(), made_at=_made_at(form), **arguments)
        except ValidationError as error:
            errors = error.errors
            if isinstance(error, safety.PinRefused):
                db_session.commit()  # the count of wrong PINs, and any silent alarm, stand
        else:
            audit(f"visit.{action.__name__}", record_type="visit", record_id=visit.id)
            db_session.commit()
            return None, visit
    db_session.rollback()
    message = next(iter(errors.values()))
    if request.accept_mimetypes.best == "application/json":
        return (jsonify(errors=errors), 422), visit
    flash(message)
    return see_other(url_for("safety.visit", visit_id=visit_id)), visit


def _location(form):
    return {"latitude": form.latitude.data, "longitude": form.longitude.data, "accuracy": form.accuracy.data}


@bp.post("/visits/<int:visit_id>/check-in")
@login_required
def check_in(visit_id: int):
    # The duress PIN takes exactly this path and gets exactly this answer: only the server knows.
    failed, visit = _visit_action(visit_id, PinForm(), safety.check_in,
                                  extra=lambda form: {"pin": safety.read_pin(current_user, form.pin.data),
                                                      **_location(form)})
    if failed is not None:
        return failed
    flash(CHECKED_IN.format(due=presenters.local(visit.due_at, zone())))
    return see_other(url_for("home.index"))


@bp.post("/visits/<int:visit_id>/extend")
@login_required
def extend(visit_id: int):
    failed, visit = _visit_action(visit_id, ExtendForm(), safety.extend, extra=lambda form: {"minutes": form.minutes.data})
    if failed is not None:
        return failed
    flash(f"Extended. Check in by {presenters.local(visit.due_at, zone())}.")
    return see_other(url_for("home.index"))


@bp.post("/visits/<int:visit_id>/end")
@login_required
def end(visit_id: int):
    failed, _visit = _visit_action(visit_id, PinForm(), safety.end_visit,
                                   extra=lambda form: {"pin": safety.read_pin(current_user, form.pin.data)})
    if failed is not None:
        return failed
    flash("Visit ended. Stay safe.")
    return see_other(url_for("home.index"))


@bp.get("/visits/<int:visit_id>")
@login_required
@offline_copy
def visit(visit_id: int):
    db_session = db.session()
    own = safety.own_visit(db_session, current_user, visit_id)
    view = presenters.visit_view(own, current_user, _team(), zone(), utcnow(),
                                 safety.open_crisis_alarm(db_session, current_user.id))
    return render("safety/visit.html", visit=view, ended=own.state == "ended", pin_form=PinForm(),
                  extend_form=ExtendForm(), timeline=presenters.worker_timeline(db_session, own, zone()))


@bp.route("/settings/safety", methods=["GET", "POST"])
@login_required
def settings():
    db_session = db.session()
    team = _team()
    form = SafetySettingsForm(obj=current_user if request.method == "GET" else None)
    mates = db_session.exec(select(User).where(User.team_id == team.id, User.active, User.id != current_user.id)
                            .order_by(User.name)).all()
    form.buddy_id.choices = [("", "No buddy: alerts go to the duty supervisor")] + [(str(u.id), u.name) for u in mates]
    changes_pins = bool(form.pin.data or form.duress_pin.data or request.form.get("clear_pins"))
    if request.method == "POST" and changes_pins and not recently_confirmed():
        return ask_to_confirm(url_for("safety.settings"))  # PINs: confirm it's you (auth/sudo.py)
    if request.method == "POST" and form.validate():
        buddy = form.buddy_id.data
        try:
            if buddy is not None and buddy not in {u.id for u in mates}:
                raise ValidationError({"buddy_id": "Choose someone from your team."})
            if changes_pins:
                safety.set_pins(current_user, pin=form.pin.data or None, duress_pin=form.duress_pin.data or None)
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            current_user.buddy_id = buddy
            current_user.description = (form.description.data or "").strip() or None
            audit("safety.settings", record_type="user", record_id=current_user.id)
            db_session.commit()
            flash("Your safety settings are saved.")
            return see_other(url_for("safety.settings"))
    return render("safety/settings.html", form=form, team=team, has_pin=current_user.pin_hash is not None,
                  has_duress=current_user.duress_pin_hash is not None,
                  status=422 if request.method == "POST" else 200)


# ---- supervisors ----

def _supervisor_team() -> Team:
    if current_user.role != "supervisor":
        raise NotFound
    return _team()


# ---- the Crisis button ----

@bp.post("/crisis/alarm")
@login_required
def crisis_alarm():
    db_session = db.session()
    team = _team()
    form = CrisisForm()
    form.validate()  # a bad location or time is dropped, never a reason to refuse an alarm
    latitude = form.latitude.data if not form.latitude.errors else None
    longitude = form.longitude.data if not form.longitude.errors else None
    alert = safety.crisis_alarm(db_session, current_user, team, now=utcnow(), latitude=latitude,
                                longitude=longitude, made_at=_made_at(form))
    audit("alert.crisis", record_type="alert", record_id=alert.id)
    db_session.commit()
    # Silent mode: a neutral page, nothing that says an alarm went out.
    target = url_for("home.index") if team.silent_crisis else url_for("safety.crisis_status", alert_id=alert.id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(sent=True, next=target), 201
    return see_other(target)


@bp.get("/crisis/alarms/<int:alert_id>")
@login_required
def crisis_status(alert_id: int):
    db_session = db.session()
    team = _team()
    alert = safety.own_crisis_alarm(db_session, current_user, alert_id)
    if team.silent_crisis:
        return see_other(url_for("home.index"))
    responder = db_session.get(User, alert.acknowledged_by_id) if alert.acknowledged_by_id else None
    reach, nobody = presenters.alarm_reach(db_session, alert)
    return render("safety/crisis_status.html", "safety/_crisis_status.html", alert=alert, responder=responder,
                  heading=presenters.crisis_heading(alert, nobody), duty_phone=team.duty_phone,
                  sent=presenters.crisis_sent(alert, zone()), reach=reach, nobody=nobody,
                  now_local=presenters.local(utcnow(), zone()))


@bp.get("/board")
@login_required
def board():
    team = _supervisor_team()
    alerts, visits = presenters.board(db.session(), team.id, zone(), utcnow())
    shown = alert_access.visible_alert_ids(db.session(), current_user, [a.id for a in alerts])
    alerts = [a for a in alerts if a.id in shown]  # the one rule, here too (supervisors see all)
    ahead = rota.cover_ahead(db.session(), team, utcnow())
    return render("safety/board.html", "safety/_board.html", team=team, alerts=alerts, visits=visits,
                  now_local=presenters.local(utcnow(), zone(), "%H:%M:%S"), rota_warning=ahead.warning,
                  rota_gaps=gap_lines(ahead.gaps, {team.duty_supervisor_id: ahead.fallback_name}, zone()))


@bp.get("/alerts/<int:alert_id>")
@login_required
def alert(alert_id: int):
    db_session = db.session()
    found = alert_access.visible_alert(db_session, current_user, alert_id)
    visit = db_session.get(Visit, found.visit_id) if found.visit_id else None
    audit("alert.view", record_type="alert", record_id=found.id)
    if visit is not None and visit.sealed_notes:
        audit("visit.unseal", record_type="visit", record_id=visit.id, detail=f"alert {found.id}")
    db_session.commit()
    return _alert_page(found, ResolveForm(formdata=None))


def _alert_page(found, resolve_form: ResolveForm, status: int = 200):
    """The alert's page; after a refused resolve, with the note typed and what to fix."""
    db_session = db.session()
    worker = db_session.get(User, found.worker_id)
    visit = db_session.get(Visit, found.visit_id) if found.visit_id else None
    person = db_session.get(Person, visit.person_id) if visit is not None and visit.person_id else None
    latitude = found.latitude if found.latitude is not None else (visit.latitude if visit else None)
    longitude = found.longitude if found.longitude is not None else (visit.longitude if visit else None)
    return render("safety/alert.html", status=status, alert=found, worker=worker, visit=visit,
                  kind_label=safety.KIND_LABELS[found.kind], state_label=presenters.STATE_LABELS[found.state],
                  responder=db_session.get(User, found.acknowledged_by_id) if found.acknowledged_by_id else None,
                  outcome_label=safety.OUTCOMES.get(found.outcome or ""),
                  map_link=presenters.map_link(latitude, longitude), latitude=latitude, longitude=longitude,
                  located_at=presenters.local(found.location_at or (visit.location_at if visit else None), zone()),
                  raised_local=presenters.local(found.raised_at, zone()),
                  timeline=presenters.timeline(db_session, found, zone(), current_user), resolve_form=resolve_form,
                  person=person, row=caseload_presenters.row(person, utcnow()) if person else None,
                  order_notes=compliance_board.emergency_notes(db_session, person.id, utcnow(), zone()) if person else [])


@bp.post("/alerts/<int:alert_id>/acknowledge")
@login_required
def acknowledge(alert_id: int):
    db_session = db.session()
    found = alert_access.visible_alert(db_session, current_user, alert_id)
    first = safety.acknowledge(db_session, found, current_user, now=utcnow())
    audit("alert.acknowledge", record_type="alert", record_id=found.id)
    db_session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify(acknowledged=True, first=first)
    responder = db_session.get(User, found.acknowledged_by_id)
    flash("You are responding. Open the alert for the details." if first
          else f"Already acknowledged by {responder.name if responder else 'someone else'}.")
    return see_other(url_for("safety.alert", alert_id=found.id))


@bp.post("/alerts/<int:alert_id>/resolve")
@login_required
def resolve(alert_id: int):
    db_session = db.session()
    found = alert_access.visible_alert(db_session, current_user, alert_id)
    form = ResolveForm()
    if not form.validate():
        return _alert_page(found, form, status=422)
    try:
        safety.resolve(db_session, found, current_user, outcome=form.outcome.data, note=form.note.data or "",
                       now=utcnow())
    except (ValidationError, safety.rules.NotAllowed) as error:
        db_session.rollback()
        show_errors(form, getattr(error, "errors", {"": str(error)}))
        return _alert_page(found, form, status=422)
    audit("alert.resolve", record_type="alert", record_id=found.id, detail=form.outcome.data)
    db_session.commit()
    flash("Alert resolved.")
    return see_other(url_for("home.index"))


@bp.route("/team/settings", methods=["GET", "POST"])
@login_required
def team_settings():
    db_session = db.session()
    team = _supervisor_team()
    form = TeamSafetyForm(obj=team if request.method == "GET" else None)
    supervisors = safety.team_supervisors(db_session, team.id)
    form.duty_supervisor_id.choices = [("", "Nobody: every supervisor")] + [(str(u.id), u.name) for u in supervisors]
    if request.method == "POST" and form.validate():
        try:
            if form.duty_supervisor_id.data not in {None, *(u.id for u in supervisors)}:
                raise ValidationError({"duty_supervisor_id": "Choose a supervisor of this team."})
            changed = update_team(db_session, team, TeamSettings(
                name=team.name, duty_phone=(form.duty_phone.data or "").strip() or None,
                grace_seconds=form.grace_seconds.data, escalation_seconds=form.escalation_seconds.data,
                min_visit_minutes=form.min_visit_minutes.data, max_visit_minutes=form.max_visit_minutes.data))
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            for field in ("duty_supervisor_id", "pin_policy", "silent_crisis"):
                if getattr(team, field) != form[field].data:
                    setattr(team, field, form[field].data)
                    changed.append(field)
            audit("team.update", record_type="team", record_id=team.id, detail="changed=" + ",".join(changed))
            db_session.commit()
            flash("Team settings saved.")
            return see_other(url_for("safety.team_settings"))
    return render("safety/team_settings.html", form=form, team=team, status=422 if request.method == "POST" else 200)
