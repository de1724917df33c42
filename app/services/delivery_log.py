"""What the delivery log and the notification settings show of the outbox: rows a viewer may see,
failures first, and plain words for statuses and channels."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import Delivery, User
from app.services import channels


def log_for(session: Session, viewer: User, *, limit: int = 200) -> list[tuple[Delivery, str]]:
    """Deliveries a supervisor (their team) or admin (everyone) may see, failures first."""
    query = select(Delivery, User.name).join(User, Delivery.recipient_id == User.id, isouter=True)
    if viewer.role != "admin":
        query = query.where(User.team_id == viewer.team_id)
    query = query.order_by((Delivery.status == "failed").desc(), Delivery.created_at.desc(), Delivery.id.desc())
    return [(row, name or "—") for row, name in session.exec(query.limit(limit)).all()]


def failed_count(session: Session, viewer: User, *, since: datetime) -> int:
    query = (select(func.count()).select_from(Delivery).join(User, Delivery.recipient_id == User.id)
             .where(Delivery.status == "failed", Delivery.created_at >= since))
    if viewer.role != "admin":
        query = query.where(User.team_id == viewer.team_id)
    return session.exec(query).one()


STATUS_LABELS = {
    "pending": ("Waiting to send", "warn"),
    "sending": ("Sending", "warn"),
    "sent": ("Sent", "ok"),
    "failed": ("Failed", "danger"),
    "cancelled": ("Cancelled", "off"),
    "skipped": ("Not sent: channel not set up", "off"),
}
CHANNEL_LABELS = {"push": "Push", "email": "Email", "sms": "SMS"}
CHANNEL_WORDS = {"push": "push", "email": "email", "sms": "text message"}


def _listed(words: list[str]) -> str:
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 2 else words)


def channel_setup(configured: frozenset[str], *, has_phone: bool) -> tuple[str, str]:
    """For the settings page: the ways a safety alert reaches this person, and what is not set up."""
    ways = [CHANNEL_WORDS[name] for name in channels.CHANNELS if name in configured and (name != "sms" or has_phone)]
    missing = [CHANNEL_WORDS[name] + "s" for name in channels.CHANNELS if name not in configured]
    return _listed(ways), _listed(missing)


@dataclass
class LogLine:
    when: datetime
    recipient: str
    channel: str
    kind: str
    status_label: str
    status_tone: str
    attempts: int
    detail: str


def describe(row: Delivery, recipient_name: str) -> LogLine:
    label, tone = STATUS_LABELS.get(row.status, (row.status, "off"))
    detail = row.last_error if row.status != "sent" else (row.provider_response or "")
    return LogLine(row.sent_at or row.created_at, recipient_name, CHANNEL_LABELS.get(row.channel, row.channel),
                   row.kind.capitalize(), label, tone, row.attempts, detail or "")
