"""The worker's private calendar feed: the secret in its address (shown once, kept only as a digest)
and the initials that stand for a person in it (the feed carries initials and kinds, never names or
places)."""
from __future__ import annotations

import hashlib
import re
import secrets

from sqlmodel import Session, select

from app.models import User
from app.services.access import NotFound


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_calendar_token(user: User) -> str:
    """A new secret for the feed URL (shown once); the old URL stops working at once."""
    token = secrets.token_urlsafe(24)
    user.calendar_token_hash = _digest(token)
    return token


def calendar_owner(session: Session, token: str) -> User:
    if not token or len(token) > 100:
        raise NotFound
    user = session.exec(select(User).where(User.calendar_token_hash == _digest(token))).first()
    if user is None or not user.active:
        raise NotFound
    return user


def initials(name: str) -> str:
    """The first letter of each word of a name, up to three; a bracketed aside ("(demo)") and
    anything that is not a letter are left out."""
    words = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", name).split()
    firsts = [word.lstrip("'\"‘“-.,")[:1] for word in words]
    return "".join(c for c in firsts if c.isalpha()).upper()[:3] or "?"
