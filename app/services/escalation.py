"""The safety engine's worker job: detect missed check-ins, escalate unanswered alerts, remind.

Every claim is a conditional UPDATE (`... WHERE id = ? AND state = 'active' AND overdue_at <= now`),
so however many workers run, exactly one wins each visit, and the alert and its deliveries are
written in that same transaction: a crash can never leave a missed check-in without its alert.
PostgreSQL workers skip rows another worker has locked (SKIP LOCKED) instead of queueing on them.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Callable

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import unit_of_work
from app.models import Alert, User, Visit
from app.services import delivery as delivery_service
from app.services import missed_alerts, safety
from app.services import safety_rules as rules
from app.services.delivery import Message

BATCH = 50
# Per tick, so that detection and delivery take turns in a burst: the first alerts go out while
# later ones are still being raised, instead of every alert waiting for the last to be raised.
BUDGET_SECONDS = 1.0


def _candidates(session: Session, query):
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.exec(query.limit(BATCH)).all()


def detect(engine: Engine, now: datetime, on_raised: Callable[[], None] | None = None) -> int:
    """Claim every visit past its grace deadline and raise its alert, a batch per transaction.
    `on_raised` is called after each batch is committed (the worker wakes its delivery job with it,
    so the first alarms leave while later ones are still being raised). Returns alerts raised."""
    raised, started = 0, time.monotonic()
    while True:
        with unit_of_work(engine) as session:
            batch = missed_alerts.claim(session, now=now, limit=BATCH)
            missed_alerts.raise_all(session, batch, now=now)
        raised += len(batch)
        if batch and on_raised is not None:
            on_raised()
        if len(batch) < BATCH or time.monotonic() - started > BUDGET_SECONDS:
            return raised


def escalate_due(engine: Engine, now: datetime) -> int:
    moved, started = 0, time.monotonic()
    while True:
        with unit_of_work(engine) as session:
            rows = _candidates(session, select(Alert.id, Alert.next_escalation_at)
                               .where(Alert.state == "open", Alert.next_escalation_at <= now)
                               .order_by(Alert.next_escalation_at))
            for alert_id, seen in rows:
                # Only the worker that still sees the same deadline moves the alert up.
                claimed = session.execute(
                    update(Alert)
                    .where(Alert.id == alert_id, Alert.state == "open", Alert.next_escalation_at == seen)
                    .values(next_escalation_at=None)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if claimed == 1:
                    safety.escalate(session, session.get(Alert, alert_id, populate_existing=True), now=now)
                    moved += 1
        if len(rows) < BATCH or time.monotonic() - started > BUDGET_SECONDS:
            return moved


def remind(engine: Engine, now: datetime) -> int:
    """Push "Check in due soon" to workers whose deadline is near."""
    sent = 0
    with unit_of_work(engine) as session:
        rows = _candidates(session, select(Visit.id, Visit.remind_at, Visit.worker_id, Visit.due_at)
                           .where(Visit.state == "active", Visit.remind_at <= now))
        for visit_id, seen, worker_id, due_at in rows:
            claimed = session.execute(
                update(Visit).where(Visit.id == visit_id, Visit.remind_at == seen).values(remind_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed == 1:
                minutes = max(1, round((due_at - now).total_seconds() / 60))
                delivery_service.enqueue(session, Message(
                    kind="visit", event_ref=f"visit:{visit_id}:remind:{int(due_at.timestamp())}",
                    title=f"Check in due in {minutes} min", body="Open Fieldline and tap I'm safe, or extend.",
                    url="/", topic=f"visit-{visit_id}",
                ), session.get(User, worker_id), now=now)
                sent += 1
    return sent


def next_moment(engine: Engine) -> datetime | None:
    with Session(engine) as session:
        moments = [
            session.exec(select(func.min(Visit.overdue_at)).where(Visit.state == "active")).one(),
            session.exec(select(func.min(Visit.remind_at)).where(Visit.state == "active")).one(),
            session.exec(select(func.min(Alert.next_escalation_at)).where(Alert.state == "open")).one(),
        ]
    moments = [m for m in moments if m is not None]
    return min(moments) if moments else None


def safety_job(engine: Engine, now: datetime, on_raised: Callable[[], None] | None = None) -> datetime | None:
    detect(engine, now, on_raised)
    moved = escalate_due(engine, now)
    reminded = remind(engine, now)
    if (moved or reminded) and on_raised is not None:
        on_raised()
    return next_moment(engine)
