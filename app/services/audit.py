"""Recording the audit trail. The table refuses updates and deletes (see the migration)."""
from datetime import datetime

from sqlmodel import Session, select

from app.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    now: datetime,
    actor_id: int | None = None,
    record_type: str | None = None,
    record_id: int | str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=now,
        actor_id=actor_id,
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        ip=ip,
        detail=(detail or None) and detail[:500],
    )
    session.add(event)
    return event


def trail(
    session: Session,
    *,
    actor_id: int | None = None,
    record_type: str | None = None,
    record_id: int | str | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if record_type is not None:
        query = query.where(AuditEvent.record_type == record_type)
    if record_id is not None:
        query = query.where(AuditEvent.record_id == str(record_id))
    return list(session.exec(query))
