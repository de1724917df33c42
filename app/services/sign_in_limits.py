"""How many failed sign-ins to allow, counted in the database so that every web process agrees.

Two counts, as django-axes (lockout by username *and* address) and Django's and Flask-Security's
own advice do it, with the waits growing rather than a lock anyone could set off for someone else:
- per (account, address): the first FREE failures cost nothing (typos); after that each attempt
  waits a delay that doubles with every failure (30 s, 1 min, 2 min … at most an hour). Someone
  hammering an account from elsewhere never slows the real user's own address.
- per address: at most ADDRESS_LIMIT failures in ADDRESS_WINDOW over all accounts (spraying).
An attempt is counted before its password is checked, under a row lock, so two processes at once
cannot both slip past a limit; a success gives its count back. A refused attempt is not checked.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from app.models import SignInThrottle

FREE = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
ADDRESS_LIMIT = 50
ADDRESS_WINDOW = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)
NO_WAIT = timedelta(0)


def pair_wait(failures: int, last_failure_at: datetime, now: datetime) -> timedelta:
    """How long this account must wait from this address before its password is checked again."""
    if failures < FREE:
        return NO_WAIT
    delay = min(FIRST_DELAY * 2 ** min(failures - FREE, 20), MAX_DELAY)
    return max(NO_WAIT, last_failure_at + delay - now)


def address_wait(failures: int, started_at: datetime, now: datetime) -> timedelta:
    """How long this address must wait before any account's password is checked again."""
    if failures < ADDRESS_LIMIT or now - started_at >= ADDRESS_WINDOW:
        return NO_WAIT
    return started_at + ADDRESS_WINDOW - now


def _key(kind: str, *parts: str) -> str:
    return kind + ":" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _keys(email: str, address: str | None) -> tuple[str, str]:
    address = address or "unknown"
    return _key("pair", email.strip().lower(), address), _key("address", address)


def begin_attempt(session: Session, email: str, address: str | None, *, now: datetime) -> timedelta:
    """Count an attempt as failed until it succeeds; or, if it must wait, how long (and count nothing).
    The caller commits at once, before checking the password, so the row locks are held briefly."""
    pair_key, address_key = _keys(email, address)
    postgres = session.get_bind().dialect.name == "postgresql"
    stale = select(SignInThrottle.key).where(SignInThrottle.last_failure_at < now - FORGET_AFTER)
    # Forget old rows; on PostgreSQL only those no other sign-in holds (two purges never deadlock).
    session.exec(delete(SignInThrottle).where(SignInThrottle.key.in_(
        stale.with_for_update(skip_locked=True) if postgres else stale)))
    insert = pg_insert if postgres else sqlite_insert
    session.connection().execute(
        insert(SignInThrottle.__table__).on_conflict_do_nothing(index_elements=["key"]),
        [{"key": key, "failures": 0, "started_at": now, "last_failure_at": now} for key in (pair_key, address_key)])
    rows = {row.key: row for row in session.exec(
        select(SignInThrottle).where(SignInThrottle.key.in_((pair_key, address_key)))
        .order_by(SignInThrottle.key).with_for_update().execution_options(populate_existing=True)).all()}
    pair, place = rows[pair_key], rows[address_key]
    if now - pair.last_failure_at >= FORGET_AFTER:
        pair.failures = 0
    if now - place.started_at >= ADDRESS_WINDOW:
        place.failures, place.started_at = 0, now
    wait = max(pair_wait(pair.failures, pair.last_failure_at, now), address_wait(place.failures, place.started_at, now))
    if wait > NO_WAIT:
        return wait
    for row in (pair, place):
        row.failures += 1
        row.last_failure_at = now
    return NO_WAIT


def succeeded(session: Session, email: str, address: str | None) -> None:
    """The password was right: this pair starts afresh and the address gets its count back."""
    pair_key, address_key = _keys(email, address)
    session.exec(delete(SignInThrottle).where(SignInThrottle.key == pair_key))
    place = session.get(SignInThrottle, address_key, with_for_update=True, populate_existing=True)
    if place is not None and place.failures > 0:
        place.failures -= 1


def wait_words(wait: timedelta) -> str:
    seconds = max(1, round(wait.total_seconds()))
    if seconds < 60:
        return f"{seconds} seconds" if seconds > 1 else "1 second"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes" if minutes > 1 else "1 minute"
