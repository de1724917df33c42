"""Devices that receive push, each user's channel choices, and the delivery outbox."""
from datetime import datetime

from sqlalchemy import LargeBinary, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

CHANNELS = ("push", "email", "sms")
# Kinds of message. Safety messages always go by every channel a person has.
KINDS = ("safety", "reminder", "referral", "test", "group")


class PushSubscription(SQLModel, table=True):
    __tablename__ = "push_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    endpoint: str = Field(sa_type=Text, unique=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    user_agent: str | None = Field(default=None, max_length=200)
    # The signed-in session that registered this device: signing that session out unregisters it.
    login_session_id: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    last_success_at: datetime | None = utc_field(default=None, nullable=True)


class NotificationPreference(SQLModel, table=True):
    """Which channels a person wants for a kind of message (safety ignores this: it uses all)."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=16)
    push: bool = Field(default=True)
    email: bool = Field(default=False)
    sms: bool = Field(default=False)


class Delivery(SQLModel, table=True):
    """One message to one recipient by one channel (and, for push, one device).

    Written in the same transaction as the event that caused it (the transactional outbox) and
    sent by the worker loop, which claims due rows with a lease so that several workers never send
    the same row at once and a row whose sender died is sent again when its lease runs out.
    """

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # (event, recipient, channel[, device]): inserting the same message twice is harmless.
    dedupe_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=16)
    # What caused it, as an opaque reference ("alert:12"), never personal data.
    event_ref: str = Field(max_length=64, index=True)
    recipient_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    channel: str = Field(max_length=8)
    subscription_id: int | None = Field(default=None, foreign_key="push_subscription.id",
                                        ondelete="SET NULL")
    # Where it goes for email and SMS, captured when the message is made.
    address: str | None = Field(default=None, max_length=254)
    # An email's attachment (a referral's PDF): kept only until the email is sent or given up.
    attachment_name: str | None = Field(default=None, max_length=100)
    attachment: bytes | None = Field(default=None, sa_type=LargeBinary)
    high_priority: bool = Field(default=False)
    title: str = Field(max_length=120)
    body: str = Field(max_length=1000)
    url: str = Field(max_length=300)
    ack_url: str | None = Field(default=None, max_length=300)
    topic: str | None = Field(default=None, max_length=32)
    ttl_seconds: int = Field(default=3600)
    # pending -> sending (leased) -> sent | failed | cancelled; a failure goes back to pending.
    status: str = Field(default="pending", max_length=10)
    attempts: int = Field(default=0)
    max_attempts: int = Field(default=6)
    next_attempt_at: datetime = utc_field(default_factory=utcnow)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = utc_field(default=None, nullable=True)
    last_error: str | None = Field(default=None, max_length=300)
    provider_response: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc_field(default_factory=utcnow)
    first_attempt_at: datetime | None = utc_field(default=None, nullable=True)
    sent_at: datetime | None = utc_field(default=None, nullable=True)
    acknowledged_at: datetime | None = utc_field(default=None, nullable=True)
