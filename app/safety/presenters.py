"""Turn visits and alerts into what the pages show: local times, status words and tones."""
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.models import Alert, Delivery, SafetyEvent, User, Visit
from app.services import alert_access, safety
from app.services import safety_rules as rules

STATE_LABELS = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved"}
VISIT_STATE_LABELS = {"active": "running", "overdue": "overdue — alert raised", "ended": "ended"}
EVENT_LABELS = {
    "started": "Visit started", "checked_in": "Checked in", "late_check_in": "Checked in late",
    "extended": "Extended", "ended": "Visit ended", "overdue": "Missed check-in (grace period over)",
    "alert_raised": "Alert raised", "escalated": "Escalated", "acknowledged": "Acknowledged",
    "resolved": "Resolved", "crisis_pressed": "Crisis button held", "crisis_again": "Crisis button held again",
    "pin_paused": "PIN entry paused (wrong PINs in a row)",
}


# Alert events store their detail in codes ("panic, level 3", "level 3, repeat 2"): shown in words.
RAISED_DETAIL = re.compile(r"^(?P<kind>[a-z_]+), level (?P<level>\d+)$")
ESCALATED_DETAIL = re.compile(r"^level (?P<level>\d+)(, repeat (?P<repeat>\d+))?$")


def level_words(level: int) -> str:
    return f"level {level} of {rules.TOP_LEVEL}"


def event_detail(kind: str, detail: str | None) -> str:
    """An event's stored detail in the words a responder reads (what is not a code is kept as is)."""
    raised = RAISED_DETAIL.match(detail or "") if kind == "alert_raised" else None
    if raised:
        kind_label = safety.KIND_LABELS.get(raised["kind"], raised["kind"].replace("_", " "))
        return f"{kind_label}, {level_words(int(raised['level']))}"
    escalated = ESCALATED_DETAIL.match(detail or "") if kind == "escalated" else None
    if escalated:
        again = f", sent again ({escalated['repeat']})" if escalated["repeat"] else ""
        return f"to {level_words(int(escalated['level']))}{again}"
    return detail or ""


def local(moment: datetime | None, zone: ZoneInfo, fmt: str = "%H:%M") -> str:
    return moment.astimezone(zone).strftime(fmt) if moment else ""


def alarm_reach(session: Session, alert: Alert) -> tuple[str, bool]:
    """Who the alarm has actually gone to so far, from its delivery rows (not what we hope), and
    whether there is nobody at all to send it to."""
    rows = session.exec(select(Delivery.recipient_id, Delivery.status)
                        .where(Delivery.event_ref.like(f"alert:{alert.id}:%"),
                               Delivery.recipient_id != alert.worker_id)).all()  # not their own "help is coming"
    # Only what is sent or still on its way counts: a failed, skipped or cancelled row reaches nobody.
    people = {recipient for recipient, status in rows if status in ("pending", "sending", "sent")}
    reached = {recipient for recipient, status in rows if status == "sent"}
    if not people:
        return ("It is on your team's board, but no phone could be sent it: nobody in your team has alerts "
                "switched on. Call 999 or your duty phone now."), True
    if reached:
        return f"It has reached {len(reached)} of the {len(people)} people it was sent to.", False
    return f"It is on its way to {len(people)} {'person' if len(people) == 1 else 'people'}.", False


def crisis_heading(alert: Alert, nobody: bool) -> str:
    """The Crisis status page's heading, true at every refresh (someone may answer from the board)."""
    if alert.state == "resolved":
        return "Your alarm is closed"
    if alert.acknowledged_by_id:
        return "Someone is responding"
    return "No phone could be alerted" if nobody else "Help has been alerted"


def crisis_sent(alert: Alert, zone: ZoneInfo) -> str:
    """What the worker's Crisis alarm actually gave their team: never a location it did not have."""
    sent = f"Your alarm was raised at {local(alert.raised_at, zone)}"
    with_visit = ", with your visit's details" if alert.visit_id else ""
    if alert.latitude is None:
        return (f"{sent}{with_visit}. Your location was not sent: your phone did not give it. "
                "Tell them where you are if you can.")
    return f"{sent}{with_visit}, with your location from {local(alert.location_at or alert.raised_at, zone)}."


@dataclass
class VisitView:
    id: int
    place: str
    due_local: str
    deadline_iso: str
    status: rules.Status
    alerted: bool
    needs_pin: bool
    crisis_alert_id: int | None = None


def visit_view(visit: Visit, worker: User, team, zone: ZoneInfo, now: datetime,
               crisis: Alert | None = None) -> VisitView:
    # Shown to the worker: a missed check-in, and their own Crisis alarm (the bar must never say
    # "OK" after one). A duress alarm stays invisible to them, and so does a silent team's Crisis.
    alerted = visit.state == "overdue"
    status = rules.visit_status(visit.state, visit.due_at, visit.overdue_at, now, alerted)
    if crisis is not None and not team.silent_crisis:
        status = rules.Status("Help coming" if crisis.acknowledged_by_id else "Crisis alarm sent",
                              "danger")
    return VisitView(visit.id, visit.place, local(visit.due_at, zone), visit.due_at.isoformat(), status, alerted,
                     safety.pin_required(worker, team), crisis.id if crisis is not None and not team.silent_crisis
                     else None)


@dataclass
class BoardAlert:
    id: int
    kind_label: str
    worker_name: str
    raised_local: str
    level: int
    state_label: str
    tone: str
    responder: str | None
    where: str | None = None
    map_link: str | None = None


@dataclass
class BoardVisit:
    worker_name: str
    place: str
    due_local: str
    deadline_iso: str
    status: rules.Status


def board(session: Session, team_id: int, zone: ZoneInfo, now: datetime) -> tuple[list[BoardAlert], list[BoardVisit]]:
    names = {u.id: u.name for u in session.exec(select(User).where(User.team_id == team_id)).all()}
    open_alerts = session.exec(select(Alert).where(Alert.team_id == team_id, Alert.state != "resolved")
                               .order_by(Alert.state, Alert.raised_at.desc())).all()
    open_alerts = sorted(open_alerts, key=rules.most_urgent_first)
    alerts = [BoardAlert(a.id, safety.KIND_LABELS[a.kind], names.get(a.worker_id, "?"), local(a.raised_at, zone),
                         a.level, STATE_LABELS[a.state] + (f" — {level_words(a.level)}" if a.state == "open" else ""),
                         "danger" if a.state == "open" else "warn", names.get(a.acknowledged_by_id),
                         f"{a.latitude:.5f}, {a.longitude:.5f}" if a.latitude is not None else None,
                         map_link(a.latitude, a.longitude))
              for a in open_alerts]
    # Any open alarm about a visit (missed check-in, Crisis, duress): the visit is never shown as OK.
    alerted_visits = {a.visit_id for a in open_alerts if a.visit_id}
    visits = session.exec(select(Visit).where(Visit.team_id == team_id, Visit.state.in_(("active", "overdue")))
                          .order_by(Visit.due_at)).all()
    running = [BoardVisit(names.get(v.worker_id, "?"), v.place, local(v.due_at, zone), v.due_at.isoformat(),
                          rules.visit_status(v.state, v.due_at, v.overdue_at, now, v.id in alerted_visits))
               for v in visits]
    return alerts, running


@dataclass
class TimelineLine:
    when: str
    label: str
    who: str
    detail: str
    made_at: str


def timeline(session: Session, alert: Alert, zone: ZoneInfo, viewer: User) -> list[TimelineLine]:
    query = select(SafetyEvent).order_by(SafetyEvent.at, SafetyEvent.id)
    if alert.visit_id:
        query = query.where((SafetyEvent.visit_id == alert.visit_id) | (SafetyEvent.alert_id == alert.id))
    else:
        query = query.where(SafetyEvent.alert_id == alert.id)
    names = {u.id: u.name for u in session.exec(select(User).where(User.team_id == alert.team_id)).all()}
    events = session.exec(query).all()
    # The visit's other alerts show only to those who may see them (a duress alarm is silent).
    others = {e.alert_id for e in events if e.alert_id not in (None, alert.id)}
    hidden = others - alert_access.visible_alert_ids(session, viewer, others)
    return [TimelineLine(local(e.at, zone, "%H:%M:%S"), EVENT_LABELS.get(e.kind, e.kind.replace("_", " ").capitalize()),
                         names.get(e.actor_id, ""),
                         event_detail(e.kind, e.detail), local(e.made_at, zone, "%H:%M:%S") if e.made_at else "")
            for e in events if e.alert_id not in hidden]


# What a worker's own visit page shows: their own steps only. Alerts, and above all a silent duress
# alarm, never appear on the phone.
WORKER_STEPS = ("started", "checked_in", "late_check_in", "extended", "ended")


def worker_timeline(session: Session, visit: Visit, zone: ZoneInfo) -> list[TimelineLine]:
    events = session.exec(select(SafetyEvent).where(SafetyEvent.visit_id == visit.id,
                                                    SafetyEvent.kind.in_(WORKER_STEPS),
                                                    SafetyEvent.actor_id == visit.worker_id)
                          .order_by(SafetyEvent.at, SafetyEvent.id)).all()
    return [TimelineLine(local(e.at, zone, "%H:%M:%S"), EVENT_LABELS[e.kind], "", e.detail or "",
                         local(e.made_at, zone, "%H:%M:%S") if e.made_at else "") for e in events]


def map_link(latitude: float | None, longitude: float | None) -> str | None:
    if latitude is None or longitude is None:
        return None
    return f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}#map=18/{latitude:.6f}/{longitude:.6f}"
