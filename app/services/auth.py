"""Passwords (Argon2), sign-in and the server-side record of signed-in devices."""
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select, update
from zxcvbn import zxcvbn

from app.models import LoginSession, User

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_hasher = PasswordHasher()
# Verified against when the account does not exist, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")
# last_seen_at is written at most this often, not on every request.
_TOUCH_EVERY = timedelta(seconds=60)


# zxcvbn's score 3 is "safely unguessable" (about 10^8 guesses or more): it refuses the common
# passwords it knows, repeats, sequences, keyboard walks, dates and the account's own name or email.
MIN_PASSWORD_SCORE = 3
_ESTIMATE_UP_TO = 100  # zxcvbn's cost grows with length; past this, the start decides


def password_problem(password: str, *, about: tuple[str, ...] = ()) -> str | None:
    """Why this password can't be used, or None. `about` holds the account's own words (email,
    name), which make a password easy to guess for anyone who knows whose it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    texts = [text.lower() for text in about if text]
    words = ["fieldline", *texts, *(part for text in texts for part in re.split(r"[\s@._-]+", text) if part)]
    estimate = zxcvbn(password[:_ESTIMATE_UP_TO], user_inputs=words)
    if estimate["score"] < MIN_PASSWORD_SCORE:
        warning = estimate["feedback"]["warning"] or "This password would be easy to guess."
        return f"{warning} Choose one that is harder to guess: a few unrelated words together work well."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (for every kind of failure)."""
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    stored = user.password_hash if user else _DUMMY_HASH
    try:
        _hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(
    session: Session, user: User, *, now: datetime, ip: str | None, user_agent: str | None
) -> str:
    """Record a signed-in device; returns the token for the (signed) session cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            id=_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip=ip,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    user.last_login_at = now
    return token


def resume_login_session(
    session: Session, token: str, user_id: int, *, now: datetime, idle: timedelta
) -> User | None:
    """The user behind a session cookie, if that device is still signed in and not idle too long."""
    # One round trip for both (this runs on every request).
    found = session.exec(select(LoginSession, User).join(User, User.id == LoginSession.user_id)
                         .where(LoginSession.id == _digest(token))).first()
    if found is None:
        return None
    login, user = found
    if login.user_id != user_id or login.ended_at is not None:
        return None
    if now - login.last_seen_at > idle:
        login.ended_at = now
        return None
    if not user.active:
        return None
    if now - login.last_seen_at > _TOUCH_EVERY:
        login.last_seen_at = now
    return user


def end_login_session(session: Session, token: str, *, now: datetime) -> None:
    login = session.get(LoginSession, _digest(token))
    if login is not None and login.ended_at is None:
        login.ended_at = now


def end_all_login_sessions(session: Session, user_id: int, *, now: datetime) -> None:
    session.exec(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )
