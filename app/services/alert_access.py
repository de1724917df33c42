"""Who may see and stop an alarm: the one rule every alert page and action asks.

An alert about a worker may be seen, acknowledged and resolved by
- the team's supervisors, and
- its recipients: whoever the escalation ladder has reached so far (the buddy or duty supervisor
  at level 1), and anyone a message about it was queued for,
never by the worker it is about (a duress alarm must stay silent on their phone), never from
another team, and a silent alarm (duress PIN, a run of wrong PINs) by supervisors only: those
alarms are sent to nobody else. Everyone else gets 404, exactly as for an alert that does not exist.
"""
from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, select

from app.models import Alert, Delivery, User
from app.services import safety
from app.services.access import NotFound


def may_see(viewer: User, alert: Alert, recipient_ids: Collection[int]) -> bool:
    if viewer.team_id is None or viewer.team_id != alert.team_id or viewer.id == alert.worker_id:
        return False
    if viewer.role == "supervisor":
        return True
    # A silent alarm reaches a colleague only when the team has no active supervisor (see
    # safety.responders): then that colleague is its responder and must be able to open it.
    return viewer.id in recipient_ids


def recipient_ids(session: Session, alert: Alert) -> set[int]:
    reached = {person.id for person in safety.responders(session, alert, alert.level)}
    queued = session.exec(select(Delivery.recipient_id).where(Delivery.event_ref.like(f"alert:{alert.id}:%"))
                          .distinct()).all()
    return reached | {user_id for user_id in queued if user_id is not None}


def visible_alert(session: Session, viewer: User, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or viewer.team_id != alert.team_id:
        raise NotFound
    # A supervisor needs no look-up of recipients; a colleague does.
    recipients = () if viewer.role == "supervisor" else recipient_ids(session, alert)
    if not may_see(viewer, alert, recipients):
        raise NotFound
    return alert


def visible_alert_ids(session: Session, viewer: User, alert_ids: Collection[int]) -> set[int]:
    """Which of these alerts the viewer may see (a visit's timeline holds the events of every alert
    raised during it, and a duress alarm's must not show on a colleague's page)."""
    if not alert_ids:
        return set()
    # One query for them all: the board lists every open alert and must not grow a query per alert.
    found = session.exec(select(Alert).where(Alert.id.in_(set(alert_ids)))).all()
    return {alert.id for alert in found
            if may_see(viewer, alert, () if viewer.role == "supervisor" else recipient_ids(session, alert))}
