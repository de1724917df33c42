"""Passwords (Argon2), sign-in and the server-side record of signed-in devices."""
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam
from sqlmodel import Session, delete, or_, select, update
from zxcvbn import zxcvbn

from app.db import built_once
from app.models import LoginSession, PushSubscription, Team, User
from app.models.users import WIPE_REASONS

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


def login_session_id(token: str) -> str:
    """The stored id of the session behind a cookie's token (its digest, never the token)."""
    return _digest(token)


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


@built_once
def _signed_in():
    return (select(LoginSession, User, Team).join(User, User.id == LoginSession.user_id)
            .outerjoin(Team, Team.id == User.team_id).where(LoginSession.id == bindparam("digest")))


def resume_login_session(
    session: Session, token: str, user_id: int, *, now: datetime, idle: timedelta
) -> tuple[User, Team | None] | None:
    """The user behind a session cookie, and their team, if that device is still signed in and not
    idle too long. One round trip for all three (this runs on every request, and nearly every
    page wants the team)."""
    found = session.exec(_signed_in(), params={"digest": _digest(token)}).first()
    if found is None:
        return None
    login, user, team = found
    if login.user_id != user_id or login.ended_at is not None:
        return None
    if now - login.last_seen_at > idle:
        login.ended_at, login.end_reason = now, "idle"
        return None
    if not user.active:
        return None
    if now - login.last_seen_at > _TOUCH_EVERY:
        login.last_seen_at = now
    return user, team


def end_login_session(session: Session, token: str, *, now: datetime) -> None:
    """Signing out: the session ends and the devices it registered for push are unregistered
    (a signed-out phone must not go on showing that person's alerts)."""
    login = session.get(LoginSession, _digest(token))
    if login is not None and login.ended_at is None:
        login.ended_at, login.end_reason = now, "signed-out"
    session.exec(delete(PushSubscription).where(PushSubscription.login_session_id == _digest(token)))


def end_all_login_sessions(session: Session, user_id: int, *, now: datetime, reason: str) -> int:
    """End every signed-in session of a user; returns how many were running. Deactivation and an
    admin's "Sign out everywhere" also unregister all their push devices and make their phones
    wipe at next contact; a password change only signs them out (their phones keep alerts)."""
    ended = session.exec(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    ).rowcount
    if reason in WIPE_REASONS:
        # A session that had already ended without a wipe (idle, password reset) leaves its phone's
        # copy in place: that phone wipes too when it next makes contact.
        session.exec(update(LoginSession).where(
            LoginSession.user_id == user_id,
            or_(LoginSession.end_reason.in_(("idle", "password")), LoginSession.end_reason.is_(None)),
        ).values(end_reason=reason))
        session.exec(delete(PushSubscription).where(PushSubscription.user_id == user_id))
    return ended


def signed_in_count(session: Session, user_id: int) -> int:
    return len(session.exec(select(LoginSession.id).where(LoginSession.user_id == user_id,
                                                          LoginSession.ended_at.is_(None))).all())


def must_wipe(session: Session, token: str) -> bool:
    """Whether the phone holding this (no longer valid) session should delete what it kept offline:
    the account was deactivated, or an admin signed it out everywhere."""
    found = session.exec(select(LoginSession.end_reason, User.active)
                         .join(User, User.id == LoginSession.user_id)
                         .where(LoginSession.id == _digest(token))).first()
    return found is not None and (found[0] in WIPE_REASONS or not found[1])


def open_sessions(session: Session, user_id: int) -> list[LoginSession]:
    """The account's signed-in devices, most recently used first (for its account page)."""
    return list(session.exec(select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
                             .order_by(LoginSession.last_seen_at.desc())).all())


def end_other_sessions(session: Session, user_id: int, *, keep: str, now: datetime, only: str | None = None) -> int:
    """Sign out the account's other devices (or just `only`), never the one asking; their push
    devices are unregistered as at a normal sign-out."""
    query = select(LoginSession.id).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None),
                                          LoginSession.id != keep)
    if only is not None:
        query = query.where(LoginSession.id == only)
    ids = list(session.exec(query).all())
    if ids:
        session.exec(update(LoginSession).where(LoginSession.id.in_(ids)).values(ended_at=now, end_reason="signed-out"))
        session.exec(delete(PushSubscription).where(PushSubscription.login_session_id.in_(ids)))
    return len(ids)


_BROWSERS = (("Edg/", "Edge"), ("SamsungBrowser", "Samsung Internet"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_words(user_agent: str | None) -> str:
    """"Chrome on Android": enough to recognise a device from the User-Agent it sent."""
    text = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in text), "A browser")
    system = next((name for mark, name in _SYSTEMS if mark in text), None)
    return f"{browser} on {system}" if system else browser


def network_words(ip: str | None) -> str:
    """Roughly where from, using only the address the server saw (no third-party look-up): the
    network, not the exact address."""
    if not ip:
        return "an unknown network"
    if ":" in ip:
        return "network " + ":".join(ip.split(":")[:3]) + "::"
    return "network " + ".".join(ip.split(".")[:3]) + ".x"
