"""A group session's page: its plan, Start session (with the facilitator's visit timer) and the
register, saved in one action and offline-capable (the outbox)."""
from flask import flash, jsonify, request, url_for
from flask_login import current_user, login_required

from app import db
from app.groups import bp
from app.groups.forms import without_nul
from app.models import Programme
from app.models.groups import MARKS
from app.models.types import utcnow
from app.services import ValidationError
from app.services import group_sessions as service
from app.services import groups as groups_service
from app.services import materials
from app.services.safety import running_visit
from app.web import audit, offline_copy, render, see_other, zone


def _page(meeting, group, *, marks=None, errors=None, status: int = 200):
    db_session = db.session()
    programme = db_session.get(Programme, group.programme_id)
    planned = groups_service.session_plan(db_session, programme, meeting.number) \
        if meeting.number <= programme.session_count else None
    saved = service.marks_for(db_session, meeting)
    rows = []
    for person in service.attendees(db_session, meeting):
        on_server = saved.get(person.id)
        typed = (marks or {}).get(person.id)
        chosen = typed if typed is not None else on_server
        rows.append({"person": person, "on_server": on_server,
                     "mark": chosen.mark if chosen else None, "reason": chosen.reason if chosen else None,
                     "note": chosen.note if chosen else None, "tell": chosen.tell_key_worker if chosen else False,
                     "errors": {k.split("-", 1)[0]: v for k, v in (errors or {}).items()
                                if k.endswith(f"-{person.id}")}})
    starts, ends = groups_service.session_window(meeting, group, zone())
    now = utcnow()
    return render("groups/session.html", meeting=meeting, group=group, programme=programme, planned=planned,
                  files=materials.listed(db_session, [planned.id]).get(planned.id, []) if planned else [],
                  rows=rows, marks=MARKS, labels=service.MARK_LABELS,
                  tones=service.MARK_TONES, errors=errors or {}, starts=starts, ends=ends,
                  register_open=service.register_open(meeting, group, now, zone()),
                  facilitating=service.is_facilitator(db_session, group, current_user),
                  has_visit=running_visit(db_session, current_user.id) is not None, status=status)


@bp.get("/group-sessions/<int:session_id>")
@login_required
@offline_copy
def show(session_id: int):
    db_session = db.session()
    meeting, group = service.get_session(db_session, current_user, session_id)
    audit("group_session.view", record_type="group_session", record_id=meeting.id)
    db_session.commit()
    return _page(meeting, group)


@bp.post("/group-sessions/<int:session_id>/start")
@login_required
def start(session_id: int):
    db_session = db.session()
    meeting, group = service.get_session(db_session, current_user, session_id)
    with_timer = request.form.get("timer", "yes") != "no"
    try:
        visit = service.start_session(db_session, current_user, meeting, group, now=utcnow(), with_timer=with_timer)
    except ValidationError as error:
        return _page(meeting, group, errors={"": " ".join(error.errors.values())}, status=422)
    audit("group_session.start", record_type="group_session", record_id=meeting.id)
    if visit is not None:
        audit("visit.start", record_type="visit", record_id=visit.id)
    db_session.commit()
    if visit is not None:
        flash(f"Session started. Your visit timer is running: check in by "
              f"{visit.due_at.astimezone(zone()).strftime('%H:%M')}.")
    else:
        flash("Session started.")
    return see_other(url_for("groups.show", session_id=meeting.id))


def _marks_from_form(person_ids) -> dict[int, service.Mark]:
    def text(name):
        return without_nul(request.form.get(name))

    return {pid: service.Mark(mark=text(f"mark-{pid}") or None, reason=text(f"reason-{pid}"),
                              note=text(f"note-{pid}"), tell_key_worker=text(f"tell-{pid}") == "yes")
            for pid in person_ids}


@bp.post("/group-sessions/<int:session_id>/register")
@login_required
def register(session_id: int):
    db_session = db.session()
    meeting, group = service.get_session(db_session, current_user, session_id)
    person_ids = [p.id for p in service.attendees(db_session, meeting)]
    marks = _marks_from_form(person_ids)
    try:
        saved, told = service.save_register(db_session, current_user, meeting, group, marks, now=utcnow(), zone=zone())
    except ValidationError as error:
        return _page(meeting, group, marks=marks, errors=error.errors, status=422)
    audit("group_session.register", record_type="group_session", record_id=meeting.id, detail=f"{len(saved)} marks")
    db_session.commit()
    flash(f"Register saved: {len(saved)} marked." + (f" {told} key worker(s) told." if told else ""))
    return see_other(url_for("groups.show", session_id=meeting.id))


@bp.get("/group-sessions/<int:session_id>/marks")
@login_required
def marks(session_id: int):
    """What the server holds for this register (the page shows which marks have reached it): ids
    and marks only, no names."""
    db_session = db.session()
    meeting, _ = service.get_session(db_session, current_user, session_id)
    return jsonify({str(pid): {"mark": row.mark, "label": service.MARK_LABELS[row.mark],
                               "at": row.recorded_at.astimezone(zone()).strftime("%H:%M")}
                    for pid, row in service.marks_for(db_session, meeting).items()})

