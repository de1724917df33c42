"""Creating and changing staff accounts and teams."""
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, func, select

from app.models import ROLES, Team, User
from app.services import ValidationError
from app.services.auth import end_all_login_sessions, hash_password, normalise_email, password_problem
from app.services.phones import phone_problem


@dataclass
class TeamSettings:
    name: str
    duty_phone: str | None = None
    grace_seconds: int = 300
    escalation_seconds: int = 300
    max_visit_minutes: int = 240
    min_visit_minutes: int = 5


def _check_team(session: Session, settings: TeamSettings, team_id: int | None) -> None:
    errors = {}
    name = settings.name.strip()
    if not name:
        errors["name"] = "Give the team a name."
    else:
        clash = session.exec(select(Team).where(func.lower(Team.name) == name.lower())).first()
        if clash is not None and clash.id != team_id:
            errors["name"] = "Another team already has this name."
    if not 30 <= settings.grace_seconds <= 3600:
        errors["grace_seconds"] = "The grace period must be between 30 seconds and 1 hour."
    if not 30 <= settings.escalation_seconds <= 3600:
        errors["escalation_seconds"] = "The escalation delay must be between 30 seconds and 1 hour."
    stored = session.get(Team, team_id).duty_phone if team_id is not None else None
    if problem := phone_problem(settings.duty_phone, texted=True, kept=stored):  # Crisis texts with no data signal
        errors["duty_phone"] = problem
    if not 1 <= settings.min_visit_minutes <= settings.max_visit_minutes <= 24 * 60:
        errors["max_visit_minutes"] = (
            "The longest visit must be at least the shortest, and at most 24 hours."
        )
    if errors:
        raise ValidationError(errors)


def create_team(session: Session, settings: TeamSettings) -> Team:
    _check_team(session, settings, None)
    team = Team(**{**settings.__dict__, "name": settings.name.strip()})
    session.add(team)
    session.flush()
    return team


def update_team(session: Session, team: Team, settings: TeamSettings) -> list[str]:
    """Apply the settings; returns the names of the fields that changed (for the audit log)."""
    _check_team(session, settings, team.id)
    changed = []
    for field, value in {**settings.__dict__, "name": settings.name.strip()}.items():
        if getattr(team, field) != value:
            setattr(team, field, value)
            changed.append(field)
    return changed


def team_by_name(session: Session, name: str) -> Team | None:
    return session.exec(select(Team).where(func.lower(Team.name) == name.strip().lower())).first()


def _check_user(
    session: Session, *, email: str, name: str, role: str, team_id: int | None, user_id: int | None,
    more: dict[str, str], phone: str | None = None, kept_phone: str | None = None,
) -> None:
    errors = dict(more)  # the password's problem, shown with the others at once
    if problem := phone_problem(phone, texted=True, kept=kept_phone):  # alarms are texted to it
        errors["phone"] = problem
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        errors["email"] = "Enter an email address like name@example.org."
    else:
        clash = session.exec(select(User).where(User.email == email)).first()
        if clash is not None and clash.id != user_id:
            errors["email"] = "Someone already uses this email address."
    if not name.strip():
        errors["name"] = "Enter the person's name."
    if role not in ROLES:
        errors["role"] = "Choose worker, supervisor or admin."
    elif role != "admin" and team_id is None:
        errors["team_id"] = "Workers and supervisors belong to a team: choose one."
    if team_id is not None and session.get(Team, team_id) is None:
        errors["team_id"] = "That team does not exist."
    if errors:
        raise ValidationError(errors)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None,
    team_id: int | None = None,
    phone: str | None = None,
) -> User:
    """A new account. With no password (an invitation), the person chooses one from the emailed
    link: until then nobody knows one that works."""
    email = normalise_email(email)
    problem = password_problem(password, about=(email, name)) if password is not None else None
    _check_user(session, email=email, name=name, role=role, team_id=team_id, user_id=None,
                more={"password": problem} if problem else {}, phone=phone)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        team_id=team_id,
        phone=(phone or "").strip() or None,
        password_hash=hash_password(password if password is not None else secrets.token_urlsafe(32)),
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    user: User,
    *,
    now: datetime,
    email: str,
    name: str,
    role: str,
    team_id: int | None,
    phone: str | None,
    active: bool,
    new_password: str | None = None,
) -> list[str]:
    """Apply an admin's edit; returns the names of the fields that changed.

    Deactivating an account or resetting its password signs it out on every device.
    """
    email = normalise_email(email)
    problem = password_problem(new_password, about=(email, name)) if new_password else None
    _check_user(session, email=email, name=name, role=role, team_id=team_id, user_id=user.id,
                more={"new_password": problem} if problem else {}, phone=phone, kept_phone=user.phone)
    wanted = {
        "email": email,
        "name": name.strip(),
        "role": role,
        "team_id": team_id,
        "phone": (phone or "").strip() or None,
        "active": active,
    }
    changed = [field for field, value in wanted.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, wanted[field])
    if new_password:
        user.password_hash = hash_password(new_password)
        changed.append("password")
    if "active" in changed and not active:
        end_all_login_sessions(session, user.id, now=now, reason="deactivated")
    elif new_password:
        end_all_login_sessions(session, user.id, now=now, reason="password")
    return changed
