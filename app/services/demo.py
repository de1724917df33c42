"""A demo team with clearly fictional people, for trying Fieldline out."""
import secrets

from sqlmodel import Session, func, select

from app.models import Team, User
from app.services.auth import hash_password
from app.services.users import TeamSettings, create_team, team_by_name

DEMO_TEAM = "Northside Outreach (demo)"
# Ofcom reserves 07700 900000-900999 for drama: these numbers reach nobody.
DEMO_DUTY_PHONE = "07700900123"
DEMO_USERS = [
    ("worker@example.org", "Sam Rivers", "worker", "07700900201"),
    ("worker2@example.org", "Jo Patel", "worker", "07700900202"),
    ("supervisor@example.org", "Morgan Lee", "supervisor", "07700900203"),
    ("admin@example.org", "Ash Admin", "admin", None),
]


def database_is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def seed_demo(session: Session, password: str | None = None) -> dict[str, str]:
    """Create (or refresh) the demo team and accounts; returns email -> password it set.

    Short safety timings (1 minute grace, 1 minute per escalation level, 1 minute visits allowed)
    let someone trying the demo watch the whole escalation ladder in a few minutes.
    """
    team = team_by_name(session, DEMO_TEAM)
    if team is None:
        team = create_team(
            session,
            TeamSettings(
                name=DEMO_TEAM,
                duty_phone=DEMO_DUTY_PHONE,
                grace_seconds=60,
                escalation_seconds=60,
                min_visit_minutes=1,
                max_visit_minutes=240,
            ),
        )
    passwords = {}
    for email, name, role, phone in DEMO_USERS:
        chosen = password or secrets.token_urlsafe(12)
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = User(email=email, name=name, role=role, phone=phone, password_hash="")
            session.add(user)
        user.team_id = None if role == "admin" else team.id
        user.active = True
        user.password_hash = hash_password(chosen)
        passwords[email] = chosen
    session.flush()
    supervisor = session.exec(select(User).where(User.email == "supervisor@example.org")).one()
    team.duty_supervisor_id = supervisor.id
    return passwords
