"""The records behind each team figure, found by the figure's key ("new", "seen.high",
"sent.housing", "alerts.panic", ...), and the heading of its list: what the figures page links
each number to, and what the tests reconcile the numbers with. Casework lists come from
services/casework_figures.py (each beside the table that counts it by the same rule); the safety
figures' lists (visits, home visits, alerts) are here, their numbers in services/figures.py.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.models import Alert, Person, User, Visit
from app.services import home_visit_cover, people, safety
from app.services.casework_figures import (Behind, Scope, _aware, _in, absences, appointments, closed_people,
                                           improved, new_people, open_people, plan_reviews, referrals_sent, seen)
from app.services.figure_parts import Period
from app.services.referrals import ROUTE_TEMPLATES


def visits(session, scope, period, zone) -> list[Behind]:
    query = (select(Visit.person_id, Person.name, Visit.started_at, User.name)
             .outerjoin(Person, Person.id == Visit.person_id).join(User, User.id == Visit.worker_id)
             .where(Visit.team_id == scope.team_id, _in(Visit.started_at, period)).order_by(Visit.started_at))
    if scope.worker_id:
        query = query.where(Visit.worker_id == scope.worker_id)
    return [Behind(pid, name or "No one on the caseload", f"Visit by {worker}, {_when(at, zone)}")
            for pid, name, at, worker in session.exec(query).all()]


def alerts(session, scope, period, zone, kind: str) -> list[Behind]:
    query = (select(Visit.person_id, Person.name, Alert.raised_at, User.name)
             .outerjoin(Visit, Visit.id == Alert.visit_id).outerjoin(Person, Person.id == Visit.person_id)
             .join(User, User.id == Alert.worker_id)
             .where(Alert.team_id == scope.team_id, Alert.kind == kind, _in(Alert.raised_at, period))
             .order_by(Alert.raised_at))
    if scope.worker_id:
        query = query.where(Alert.worker_id == scope.worker_id)
    return [Behind(pid, name or "No one on the caseload", f"Alert for {worker}, {_when(at, zone)}")
            for pid, name, at, worker in session.exec(query).all()]


def home_visits(session, scope, period, zone, which: str = "") -> list[Behind]:
    """which: "covered", "uncovered" or "" (all of them, each saying which it is)."""
    return [Behind(visit.person_id, visit.name or "No one on the caseload",
                   f"Home visit by {visit.worker}, {visit.starts_local:%-d %b %Y, %H:%M}: covered by a timer: "
                   f"{'yes' if visit.covered else 'no'}")
            for visit in home_visit_cover.home_visits(session, scope.team_id, period, zone, scope.worker_id)
            if which == "" or visit.covered == (which == "covered")]


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{_aware(moment).astimezone(zone):%-d %b %Y, %H:%M}"


def behind(session: Session, key: str, scope: Scope, period: Period, zone: ZoneInfo, now: datetime
           ) -> list[Behind] | None:
    """The records behind one figure (None: no such figure)."""
    head, _, rest = key.partition(".")
    if head == "new":
        return new_people(session, scope, period, zone)
    if head == "closed":
        return closed_people(session, scope, period, zone)
    if head == "open" and rest in people.RISK_LABELS:
        return [Behind(pid, name, "Open now") for pid, name, risk, _ in open_people(session, scope) if risk == rest]
    if head == "held" and rest.isdigit():
        return [Behind(pid, name, "Open now") for pid, name, _, worker in open_people(session, scope)
                if worker == int(rest)]
    if head in ("seen", "unseen") and rest in people.RISK_LABELS:
        return seen(session, scope, period, zone, now, rest, within=head == "seen")
    if head in ("kept", "dna", "cancelled") and not rest:
        return appointments(session, scope, period, head)
    if head in ("acceptable", "unacceptable") and not rest:
        return absences(session, scope, period, f"{head}_absence")
    if head == "sent" and (not rest or rest in ROUTE_TEMPLATES):
        return referrals_sent(session, scope, period, zone, rest or None)
    if head == "answered" and not rest:
        return referrals_sent(session, scope, period, zone, answered_only=True)
    if head in ("reviews", "reviews_on_time") and not rest:
        return plan_reviews(session, scope, period, zone, on_time_only=head == "reviews_on_time")
    if head == "improved" and rest:
        return improved(session, scope, period, rest)
    if head == "visits" and not rest:
        return visits(session, scope, period, zone)
    if head == "home_visits" and rest in ("", "covered", "uncovered"):
        return home_visits(session, scope, period, zone, rest)
    if head == "alerts" and rest in safety.KIND_LABELS:
        return alerts(session, scope, period, zone, rest)
    return None


def title(key: str) -> str:
    """What a figure's list is, in words (for its page's heading)."""
    head, _, rest = key.partition(".")
    level = people.RISK_LABELS.get(rest, "")
    words = {"new": "New people", "closed": "Cases closed", "open": f"Open cases now: {level} risk",
             "held": "Open cases held by one worker", "kept": "Appointments kept",
             "seen": f"{level} risk: seen within their expected interval",
             "unseen": f"{level} risk: not seen within their expected interval",
             "dna": "Appointments not attended", "cancelled": "Appointments cancelled",
             "acceptable": "Acceptable absences (orders)", "unacceptable": "Unacceptable absences (orders)",
             "sent": f"Referrals sent{': ' + ROUTE_TEMPLATES[rest].label if rest in ROUTE_TEMPLATES else ''}",
             "answered": "Referrals answered within the expected time", "reviews": "Plan reviews",
             "reviews_on_time": "Plan reviews on time", "improved": "Reliable improvement",
             "visits": "Visits started",
             "home_visits": {"covered": "Home visits covered by a timer",
                             "uncovered": "Home visits not covered by a timer"}.get(rest, "Home visits"),
             "alerts": f"Alerts: {safety.KIND_LABELS.get(rest, '')}"}
    return words.get(head, "Records")
