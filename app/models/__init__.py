"""All tables, imported here so SQLModel.metadata (and Alembic) sees every one."""
from app.models.audit import AuditEvent
from app.models.idempotency import IdempotencyRecord
from app.models.notifications import CHANNELS, KINDS, Delivery, NotificationPreference, PushSubscription
from app.models.safety import Alert, SafetyEvent, Visit
from app.models.system import WorkerHeartbeat
from app.models.users import ROLES, LoginSession, Team, User

__all__ = [
    "Alert",
    "SafetyEvent",
    "Visit",
    "AuditEvent",
    "CHANNELS",
    "Delivery",
    "KINDS",
    "NotificationPreference",
    "PushSubscription",
    "IdempotencyRecord",
    "LoginSession",
    "ROLES",
    "Team",
    "User",
    "WorkerHeartbeat",
]
