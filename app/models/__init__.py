"""All tables, imported here so SQLModel.metadata (and Alembic) sees every one."""
from app.models.appointments import APPOINTMENT_KINDS, Appointment, AppointmentOccurrence
from app.models.audit import AuditEvent
from app.models.console import Allocation, FigureSnapshot, Leave, RotaChange, RotaShift, TeamLoad, WorkerCapacity
from app.models.contacts import CONTACT_TYPES, NEEDS, Contact, ContactAddendum, ContactVersion, Photo
from app.models.groups import (Attendance, Enrolment, Group, GroupFacilitator, GroupSession, KeepApart, Programme,
                               ProgrammeMaterial, ProgrammeSession)
from app.models.idempotency import IdempotencyRecord
from app.models.measures import MeasureResponse, OrganisationLicence, TeamScale
from app.models.orders import (ComplianceEvent, CompliancePolicy, EnforceableAppointment, EvidencePack,
                               Order, Requirement, RequirementPerson)
from app.models.plans import GoalNote, Plan, PlanAgreement, PlanGoal, PlanStep, PlanVersion
from app.models.people import CLOSE_REASONS, FLAGS, RISK_LEVELS, CaseEvent, Person, RiskChange
from app.models.referrals import PartnerService, Referral, ReferralEvent
from app.models.records import RetainedCount, RetainedPlan, RetentionPass, RetentionRule, SubjectAccessRequest
from app.models.reports import Report, ReportReview, ReportVersion
from app.models.notifications import CHANNELS, KINDS, Delivery, NotificationPreference, PushSubscription
from app.models.safety import Alert, SafetyEvent, Visit
from app.models.system import WorkerHeartbeat
from app.models.users import (ROLES, AccountToken, LoginSession, Passkey, RecoveryCode, SignInThrottle, Team,
                              TrustedDevice, User)

__all__ = [
    "APPOINTMENT_KINDS",
    "Allocation",
    "Appointment",
    "AppointmentOccurrence",
    "CLOSE_REASONS",
    "CONTACT_TYPES",
    "CaseEvent",
    "Contact",
    "ContactAddendum",
    "ContactVersion",
    "FLAGS",
    "FigureSnapshot",
    "NEEDS",
    "ComplianceEvent",
    "CompliancePolicy",
    "EnforceableAppointment",
    "EvidencePack",
    "Order",
    "Requirement",
    "RequirementPerson",
    "PartnerService",
    "Person",
    "Referral",
    "ReferralEvent",
    "RetainedCount",
    "RetainedPlan",
    "RetentionPass",
    "RetentionRule",
    "Report",
    "ReportReview",
    "ReportVersion",
    "Photo",
    "RISK_LEVELS",
    "RiskChange",
    "RotaChange",
    "RotaShift",
    "Alert",
    "SafetyEvent",
    "SubjectAccessRequest",
    "Visit",
    "AuditEvent",
    "CHANNELS",
    "Delivery",
    "KINDS",
    "NotificationPreference",
    "PushSubscription",
    "IdempotencyRecord",
    "Attendance",
    "Enrolment",
    "Group",
    "GroupFacilitator",
    "GroupSession",
    "KeepApart",
    "Programme",
    "ProgrammeMaterial",
    "ProgrammeSession",
    "Leave",
    "MeasureResponse",
    "OrganisationLicence",
    "TeamScale",
    "AccountToken",
    "GoalNote",
    "Plan",
    "PlanAgreement",
    "PlanGoal",
    "PlanStep",
    "PlanVersion",
    "LoginSession",
    "Passkey",
    "RecoveryCode",
    "TrustedDevice",
    "ROLES",
    "SignInThrottle",
    "Team",
    "TeamLoad",
    "User",
    "WorkerCapacity",
    "WorkerHeartbeat",
]
