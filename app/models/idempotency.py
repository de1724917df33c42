"""Stored answers to state-changing requests, so a replayed request is applied once."""
from datetime import datetime

from sqlalchemy import JSON, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=100)
    request_hash: str = Field(max_length=64)
    # processing -> committed (the work is in, in the same transaction) -> done (answer stored)
    state: str = Field(default="processing", max_length=16)
    status_code: int | None = Field(default=None)
    location: str | None = Field(default=None, max_length=500)
    content_type: str | None = Field(default=None, max_length=100)
    body: bytes | None = Field(default=None, sa_type=LargeBinary)
    # The messages the first answer flashed ([category, text]): they live in the session cookie,
    # which a second tap's answer overwrites, so a replay shows them again.
    flashes: list | None = Field(default=None, sa_type=JSON)
    created_at: datetime = utc_field(default_factory=utcnow, index=True)
