"""The append-only audit trail: who saw or changed what, when, and from where."""
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: str = Field(max_length=64)
    record_type: str | None = Field(default=None, max_length=32)
    record_id: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    # Short, non-sensitive context (field names changed, a reason); never notes or health data.
    detail: str | None = Field(default=None, max_length=500)
