"""Operational state: the background worker's heartbeat."""
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow


class WorkerHeartbeat(SQLModel, table=True):
    __tablename__ = "worker_heartbeat"

    worker_id: str = Field(primary_key=True, max_length=100)
    started_at: datetime = utc_field(default_factory=utcnow)
    ticked_at: datetime = utc_field(default_factory=utcnow)
