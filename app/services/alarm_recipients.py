"""Who an alarm goes to, and what it says: the escalation ladder as one rule (safety.ladder, for
one alert and for a batch alike) and the generic words of each message (never personal data)."""
from __future__ import annotations

from typing import Callable

from sqlmodel import Session, select

from app.models import Alert, Team, User
from app.services import safety_rules as rules
from app.services.delivery import Message


def team_supervisors(session: Session, team_id: int) -> list[User]:
    return list(session.exec(
        select(User).where(User.team_id == team_id, User.role == "supervisor", User.active)
    ).all())


def _active_teammate(session: Session, user_id: int | None, team_id: int) -> User | None:
    user = session.get(User, user_id) if user_id else None
    return user if user and user.active and user.team_id == team_id else None


def responders(session: Session, alert: Alert, level: int, *, silent_fallback: bool = False) -> list[User]:
    """Who gets this alert at this level (the rule is ladder(), below)."""
    team = session.get(Team, alert.team_id)
    worker = session.get(User, alert.worker_id)
    return ladder(alert.kind, level, worker=worker, buddy=_active_teammate(session, alert.buddy_id, team.id),
                  duty=_active_teammate(session, alert.duty_supervisor_id, team.id),
                  supervisors=lambda: team_supervisors(session, team.id), silent_fallback=silent_fallback)


def ladder(kind: str, level: int, *, worker: User, buddy: User | None, duty: User | None,
           supervisors: Callable[[], list[User]], silent_fallback: bool = False) -> list[User]:
    """Who gets an alert at this level: the worker's buddy (or else the duty supervisor), as the alert
    holds them (raised with the rota's duty supervisor and whoever stands in for a buddy on leave;
    moved on at a shift change), first, and
    every supervisor from level 2 or when there is nobody else; never the worker themself (they get
    their own message). `buddy` and `duty` are active teammates or None; `supervisors` the team's
    active supervisors. A silent alarm goes to the team's supervisors only, never to a colleague —
    unless the team has no active supervisor, or none of them could be sent it (`silent_fallback`):
    then it follows the ladder, since it must reach someone."""
    if kind in rules.SILENT_KINDS and not silent_fallback:
        chosen = [person for person in supervisors() if person.id != worker.id]
        if chosen:
            return chosen
    first = buddy or duty
    people = [first] if first else []
    if level >= 2 or not people:
        people += supervisors()
    unique = {p.id: p for p in people if p.id != worker.id}
    return list(unique.values())


def alarm_message(alert: Alert, level: int, repeats: int) -> Message:
    if alert.kind == "panic":
        title = "CRISIS alarm — open Fieldline now"
    elif alert.kind in rules.SILENT_KINDS:
        title = "Silent alarm — open Fieldline now"
    elif level >= rules.TOP_LEVEL:
        title = "EMERGENCY — nobody has responded"
    elif level == 2:
        title = "Safety alert — escalated"
    else:
        title = "Safety alert — a check-in was missed"
    body = ("Open the emergency card. Call 999 if you cannot reach them." if level >= rules.TOP_LEVEL
            else "Open Fieldline to see who, and respond.")
    return Message(kind="safety", event_ref=f"alert:{alert.id}:level:{level}:{repeats}", title=title, body=body,
                   url=f"/alerts/{alert.id}", ack_url=f"/alerts/{alert.id}/acknowledge", topic=f"alert-{alert.id}")


def are_you_ok(visit_id: int, alert_id: int) -> Message:
    return Message(kind="safety", event_ref=f"visit:{visit_id}:missed:{alert_id}", title="Are you OK? Check in now",
                   body="Your visit timer has run out. Open Fieldline and tap I'm safe.", url="/",
                   topic=f"visit-{visit_id}")
