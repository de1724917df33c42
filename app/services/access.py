"""The one place that decides what a signed-in user may see.

Least privilege: a worker and a supervisor see their own team; an admin manages every team and
user. Anything outside that is reported as missing (404), never as forbidden, so that its
existence is not disclosed either.
"""
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from app.models import Team, User


class NotFound(Exception):
    """The record does not exist, or the viewer may not know that it does."""


def can_administer(viewer: User) -> bool:
    return viewer.role == "admin"


def users_visible_to(viewer: User) -> SelectOfScalar[User]:
    query = select(User)
    if viewer.role != "admin":
        query = query.where(User.team_id == viewer.team_id)
    return query


def get_user(session: Session, viewer: User, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or (viewer.role != "admin" and user.team_id != viewer.team_id):
        raise NotFound
    return user


def get_team(session: Session, viewer: User, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None or (viewer.role != "admin" and team.id != viewer.team_id):
        raise NotFound
    return team


def require_admin(viewer: User) -> None:
    if viewer.role != "admin":
        raise NotFound


def require_team(viewer: User) -> None:
    """Casework belongs to a team: someone on none (an admin) has nothing here to see."""
    if viewer.team_id is None:
        raise NotFound
