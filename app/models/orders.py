"""Orders a person is under (court orders, licences, service agreements), their requirements, the
appointments that are instructions under them, and the compliance record.

`compliance_event` and `compliance_policy` rows are append-only (the migration makes the database
refuse updates and deletes): a correction supersedes with a reason, a changed policy is a new row.
A signed `evidence_pack` cannot change either; a correction is a new version.
"""
from datetime import date, datetime

from sqlalchemy import JSON, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

ORDER_KINDS = ("community_order", "suspended_sentence", "licence", "post_sentence_supervision", "youth_order",
               "service_agreement")
REQUIREMENT_KINDS = ("rehabilitation_activity", "unpaid_work", "accredited_programme", "curfew", "exclusion_zone",
                     "non_association", "residence", "drug_alcohol_treatment", "other")
# What a compliance event records (one append-only stream per order).
EVENT_KINDS = ("outcome", "evidence_chased", "evidence_received", "warning", "decision", "correction")
ENFORCEABLE_OUTCOMES = ("attended_complied", "attended_failed_to_comply", "sent_home_behaviour",
                        "sent_home_our_issue", "acceptable_absence", "unacceptable_absence")
ABSENCE_REASONS = ("medical", "court_or_legal", "work", "childcare_or_family", "religious", "in_custody",
                   "professional_judgement")
DECISIONS = ("breach", "further_warning", "no_action")


class Order(SQLModel, table=True):
    __tablename__ = "person_order"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=32)
    made_by: str = Field(max_length=200)  # the court or body
    starts_on: date
    ends_on: date
    expected_end_on: date | None = Field(default=None)
    responsible_officer_id: int = Field(foreign_key="user.id")
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)


class Requirement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="person_order.id", index=True)
    kind: str = Field(max_length=32)
    # What it says: curfew times, the zone, the address, the treatment, the condition's words.
    detail: str | None = Field(default=None, sa_type=Text)
    # Days (rehabilitation activity) or hours (unpaid work) ordered; None when not counted.
    target: int | None = Field(default=None)
    # Non-association: people named who are not on the caseload (names only, as the order has them).
    named_others: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = utc_field(default_factory=utcnow)


class RequirementPerson(SQLModel, table=True):
    """A person on the caseload named in a non-association requirement."""
    __tablename__ = "requirement_person"
    __table_args__ = (UniqueConstraint("requirement_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    requirement_id: int = Field(foreign_key="requirement.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)


class EnforceableAppointment(SQLModel, table=True):
    """An appointment given as an instruction under an order (every occurrence of its series is)."""
    __tablename__ = "enforceable_appointment"

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointment.id", unique=True)
    order_id: int = Field(foreign_key="person_order.id", index=True)
    requirement_id: int | None = Field(default=None, foreign_key="requirement.id")
    told_how: str = Field(max_length=24)  # in_person / letter / text / phone / email
    told_on: date
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)


class ComplianceEvent(SQLModel, table=True):
    __tablename__ = "compliance_event"
    __table_args__ = (Index("ix_compliance_event_order", "order_id", "occurred_on"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    order_id: int = Field(foreign_key="person_order.id")
    requirement_id: int | None = Field(default=None, foreign_key="requirement.id")
    kind: str = Field(max_length=20)
    # The day it happened (local): an outcome's appointment date, the day a warning was given.
    occurred_on: date
    # What was attended or missed: "appointment:<id>:<local start>" or another feature's reference.
    source: str | None = Field(default=None, max_length=120, index=True)
    occurred_local: datetime | None = Field(default=None, sa_type=DateTime(timezone=False))
    minutes: int | None = Field(default=None)  # how long (counts towards hours and days)
    outcome: str | None = Field(default=None, max_length=32)
    absence_reason: str | None = Field(default=None, max_length=32)
    evidence_due_on: date | None = Field(default=None)
    decision: str | None = Field(default=None, max_length=20)
    # The event this answers (a warning or decision: the failure; evidence: the absence; a
    # correction: the outcome it replaces).
    responds_to_id: int | None = Field(default=None, foreign_key="compliance_event.id")
    reason: str | None = Field(default=None, sa_type=Text)
    letter: str | None = Field(default=None, sa_type=Text)  # a warning's letter, as given
    how: str | None = Field(default=None, max_length=16)  # evidence chased: phone / letter / text / email / in person
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)


class CompliancePolicy(SQLModel, table=True):
    """A team's numbers for one family of orders; the newest row is the one in force."""
    __tablename__ = "compliance_policy"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    family: str = Field(max_length=12)  # court / licence
    warnings_before_breach: int
    window_months: int
    decision_working_days: int
    set_by_id: int = Field(foreign_key="user.id")
    set_at: datetime = utc_field(default_factory=utcnow)


class EvidencePack(SQLModel, table=True):
    """One version of a breach evidence pack: what went in, the PDF's bytes and their hash."""
    __tablename__ = "evidence_pack"
    __table_args__ = (UniqueConstraint("order_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    order_id: int = Field(foreign_key="person_order.id", index=True)
    version: int
    statement: str = Field(sa_type=Text)
    contact_ids: list = Field(default_factory=list, sa_type=JSON)
    pdf: bytes = Field(sa_type=LargeBinary)
    sha256: str = Field(max_length=64)
    made_by_id: int = Field(foreign_key="user.id")
    made_at: datetime = utc_field(default_factory=utcnow)
    # The supervisor's sign-off: the PDF is rebuilt with it once, and from then on the database
    # refuses any change to the row (a correction is a new version).
    signed_by_id: int | None = Field(default=None, foreign_key="user.id")
    signed_at: datetime | None = utc_field(default=None, nullable=True)
