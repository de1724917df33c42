"""All tables, imported here so SQLModel.metadata (and Alembic) sees every one."""
from app.models.appointments import APPOINTMENT_KINDS, Appointment, AppointmentOccurrence
from app.models.audit import AuditEvent
from app.models.console import Allocation, FigureSnapshot, Leave, RotaChange, RotaShift, TeamLoad, WorkerCapacity
from app.models.contacts import CONTACT_TYPES, NEEDS, Contact, ContactAddendum, ContactVersion, Photo
from app.models.idempotency import IdempotencyRecord
from app.models.measures import MeasureResponse, OrganisationLicence, TeamScale
from app.models.people import FLAGS, RISK_LEVELS, Person, RiskChange
from app.models.referrals import PartnerService, Referral, ReferralEvent
from app.models.notifications import CHANNELS, KINDS, Delivery, NotificationPreference, PushSubscription
from app.models.safety import Alert, SafetyEvent, Visit
from app.models.system import WorkerHeartbeat
from app.models.users import ROLES, LoginSession, SignInThrottle, Team, User

__all__ = [
    "APPOINTMENT_KINDS",
    "Allocation",
    "Appointment",
    "AppointmentOccurrence",
    "CONTACT_TYPES",
    "Contact",
    "ContactAddendum",
    "ContactVersion",
    "FLAGS",
    "FigureSnapshot",
    "NEEDS",
    "PartnerService",
    "Person",
    "Referral",
    "ReferralEvent",
    "Photo",
    "RISK_LEVELS",
    "RiskChange",
    "RotaChange",
    "RotaShift",
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
    "Leave",
    "MeasureResponse",
    "OrganisationLicence",
    "TeamScale",
    "LoginSession",
    "ROLES",
    "SignInThrottle",
    "Team",
    "TeamLoad",
    "User",
    "WorkerCapacity",
    "WorkerHeartbeat",
]
