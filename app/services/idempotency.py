"""Idempotency keys: a request sent twice (an offline outbox replaying after a lost answer) is
applied once, and the second send gets the first one's answer.

A key moves processing -> committed -> done. `reserve` claims it in a transaction of its own
before the work starts; `mark_committed` runs inside the work's own transaction (so "the work is
in" and "the key is used" commit together, or not at all); `store_answer` keeps the response for
replays. A key whose work never committed is released, so the same item can be sent again.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import discard, unit_of_work
from app.models import IdempotencyRecord
from app.services.periodic import Periodic

# Longer than the outbox keeps an item (7 days), so a very late replay still finds its answer.
KEEP_FOR = timedelta(days=8)
# A key still "processing" after this long belongs to a request whose process died before it
# committed anything: the next send with the same body may take it over.
ABANDONED_AFTER = timedelta(minutes=2)
MAX_KEY_LENGTH = 100
MAX_STORED_BODY = 64 * 1024
# Fields that differ between two sends of the same item without changing what it asks for.
IGNORED_FIELDS = frozenset({"csrf_token", "idempotency_key"})


@dataclass
class Reservation:
    # proceed: do the work | replay: answer with `record` | mismatch: same key, other body (422)
    # | in_progress: its twin is being processed right now (409)
    outcome: str
    record: IdempotencyRecord | None = None


def valid_key(key: str | None) -> bool:
    return bool(key) and len(key) <= MAX_KEY_LENGTH and key.isprintable() and " " not in key


def fingerprint(secret: bytes, method: str, path: str, fields: list[tuple[str, str]],
                files: list[tuple[str, str, bytes]]) -> str:
    """A keyed hash of what the request asks for (keyed, because a body may hold a PIN)."""
    digest = hmac.new(secret, digestmod=hashlib.sha256)
    digest.update(json.dumps([method, path, sorted(f for f in fields if f[0] not in IGNORED_FIELDS)]).encode())
    for name, filename, content in sorted(files, key=lambda f: (f[0], f[1])):
        digest.update(json.dumps([name, filename, hashlib.sha256(content).hexdigest()]).encode())
    return digest.hexdigest()


def reserve(session: Session, user_id: int, key: str, request_hash: str, *, now: datetime) -> Reservation:
    """Claim the key for this request, or say why not. Commits (the claim must be visible at once)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.execute(
        insert(IdempotencyRecord).values(user_id=user_id, key=key, request_hash=request_hash, state="processing",
                                         created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "key"]).returning(IdempotencyRecord.key)
    ).first()
    if inserted is not None:
        session.commit()
        return Reservation("proceed")
    record = session.exec(select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                          IdempotencyRecord.key == key)
                          .with_for_update()).one()
    if record.request_hash != request_hash:
        session.commit()
        return Reservation("mismatch", record)
    if record.state == "processing":
        if now - record.created_at < ABANDONED_AFTER:
            session.commit()
            return Reservation("in_progress", record)
        record.created_at = now
        session.commit()
        return Reservation("proceed")
    session.commit()
    return Reservation("replay", record)


def await_answer(session: Session, user_id: int, key: str, request_hash: str, *, clock: Callable[[], datetime],
                 wait: float = 5.0, step: float = 0.1) -> Reservation:
    """A twin the browser sent itself (a second tap on a form): wait, briefly, for the first send to
    finish, then answer as it did — or do the work, if the first was refused and freed the key."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(step)
        state = session.exec(select(IdempotencyRecord.state).where(IdempotencyRecord.user_id == user_id,
                                                                   IdempotencyRecord.key == key)).first()
        discard(session)  # end the read, so the next look sees the first send's commit
        if state != "processing":
            return reserve(session, user_id, key, request_hash, now=clock())
    return Reservation("in_progress")


def mark_committed(session: Session, user_id: int, key: str) -> None:
    """Inside the work's transaction: the key is spent exactly when the work is in."""
    session.execute(update(IdempotencyRecord)
                    .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key,
                           IdempotencyRecord.state == "processing")
                    .values(state="committed"))


def store_answer(session: Session, user_id: int, key: str, *, status_code: int, location: str | None,
                 content_type: str | None, body: bytes | None, flashes: list | None = None) -> None:
    if body is not None and len(body) > MAX_STORED_BODY:
        body = None
    session.execute(update(IdempotencyRecord)
                    .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key,
                           IdempotencyRecord.state == "committed")
                    .values(state="done", status_code=status_code, location=location, content_type=content_type,
                            body=body, flashes=flashes or None))


def release(session: Session, user_id: int, key: str) -> None:
    """The request changed nothing (refused, invalid, failed): the key may be used again."""
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                    IdempotencyRecord.key == key,
                                                    IdempotencyRecord.state == "processing"))


def purge(engine: Engine, now: datetime) -> int:
    with unit_of_work(engine) as session:
        result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - KEEP_FOR))
        return result.rowcount or 0


class PurgeJob(Periodic):
    """Worker job: drop keys older than KEEP_FOR, at most once every `every` (it is housekeeping)."""

    def __init__(self, every: timedelta = timedelta(minutes=10)):
        super().__init__(every)

    def __call__(self, engine: Engine, now: datetime) -> None:
        if self.due(now):
            purge(engine, now)
