"""Reports drafted from a person's record (progress reports, MARAC and MAPPA contributions, ...),
the versions a supervisor approved (immutable, with the PDF as approved) and the sign-off history."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

REPORT_STATUSES = ("draft", "awaiting_sign_off", "returned", "approved")


class Report(SQLModel, table=True):
    """The report being written: its current draft (the one row that changes as the worker types)."""

    __table_args__ = (Index("ix_report_team_status", "team_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    template: str = Field(max_length=24)
    audience: str = Field(max_length=200)
    period_start: date = Field()
    period_end: date = Field()
    status: str = Field(default="draft", max_length=20)
    # The version this draft will become when approved (1 for a new report).
    version: int = Field(default=1)
    # [{"key", "heading", "text", "sources": [{"text", "label", "href"}]}]: the pre-fill's sources
    # stay with the section so each sentence can be traced to the record.
    sections: list = Field(default_factory=list, sa_type=JSON)
    # The phone's clock when it saved (milliseconds): a save that arrives late (from the outbox)
    # never overwrites a newer one.
    client_saved_ms: int | None = Field(default=None, sa_type=BigInteger)  # Date.now() needs 64 bits
    draft_saved_at: datetime | None = utc_field(default=None, nullable=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class ReportVersion(SQLModel, table=True):
    """A version as it was approved, and its PDF as it was produced. Append-only (database trigger)."""

    __tablename__ = "report_version"
    __table_args__ = (UniqueConstraint("report_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    version: int = Field()
    template: str = Field(max_length=24)
    audience: str = Field(max_length=200)
    period_start: date = Field()
    period_end: date = Field()
    sections: list = Field(default_factory=list, sa_type=JSON)
    author_id: int = Field(foreign_key="user.id")
    approved_by_id: int = Field(foreign_key="user.id")
    approved_at: datetime = utc_field()
    pdf: bytes = Field(sa_type=LargeBinary)
    pdf_sha256: str = Field(max_length=64)


class ReportReview(SQLModel, table=True):
    """Each ask for sign-off, approval and return, with the supervisor's comments. Append-only."""

    __tablename__ = "report_review"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    version: int = Field()
    at: datetime = utc_field(default_factory=utcnow)
    by_id: int = Field(foreign_key="user.id")
    decision: str = Field(max_length=20)  # asked / approved / returned / revised
    comments: str | None = Field(default=None, sa_type=Text)
