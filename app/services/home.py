"""What each role sees first when they open Fieldline."""
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

from sqlmodel import Session, func, select

from app.models import SubjectAccessRequest, Team, User


def greeting(now_local: datetime) -> str:
    hour = now_local.hour
    if hour < 12:
        return "Good morning"
    if hour < 18:
        return "Good afternoon"
    return "Good evening"


@dataclass
class AdminOverview:
    teams: int
    active_users: int
    deactivated_users: int
    open_requests: int = 0  # subject-access requests not yet answered
    overdue_requests: int = 0


def admin_overview(session: Session, today: date | None = None) -> AdminOverview:
    active = session.exec(select(func.count()).select_from(User).where(User.active)).one()
    inactive = session.exec(select(func.count()).select_from(User).where(~User.active)).one()
    teams = session.exec(select(func.count()).select_from(Team)).one()
    waiting = SubjectAccessRequest.released_at.is_(None)
    open_requests = session.exec(select(func.count()).select_from(SubjectAccessRequest).where(waiting)).one()
    overdue = session.exec(select(func.count()).select_from(SubjectAccessRequest).where(
        waiting, SubjectAccessRequest.due_on < today)).one() if today else 0
    return AdminOverview(teams=teams, active_users=active, deactivated_users=inactive, open_requests=open_requests,
                         overdue_requests=overdue)


def crisis_sms_link(duty_phone: str, worker_name: str) -> str:
    """An sms: link that opens the phone's own SMS app: texts get through where data does not."""
    body = f"FIELDLINE CRISIS: {worker_name} needs help now. Call them back; if no answer, call 999."
    return f"sms:{quote(duty_phone, safe='+')}?body={quote(body)}"
