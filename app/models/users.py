"""People who use Fieldline (staff), their teams and their signed-in sessions."""
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

ROLES = ("worker", "supervisor", "admin")
# Why a signed-in session ended. An account deactivated or signed out everywhere by an admin
# also wipes the phone's offline copy at its next contact with the server.
END_REASONS = ("signed-out", "idle", "password", "deactivated", "ended-by-admin")
WIPE_REASONS = ("deactivated", "ended-by-admin")


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    duty_phone: str | None = Field(default=None, max_length=32)
    # Safety settings used by the escalation engine (seconds, so demo teams can use 1 minute).
    grace_seconds: int = Field(default=300)
    escalation_seconds: int = Field(default=300)
    max_visit_minutes: int = Field(default=240)
    min_visit_minutes: int = Field(default=5)
    # The supervisor who gets level-1 alerts when a worker has no buddy (changeable any time).
    duty_supervisor_id: int | None = Field(default=None)
    # "optional": workers may set a PIN; "required": checking in and ending a visit need one.
    pin_policy: str = Field(default="optional", max_length=10)
    # Silent crisis mode: the Crisis button shows nothing on the worker's screen beyond a neutral
    # page (for when showing "help is coming" could make things worse).
    silent_crisis: bool = Field(default=False)
    # Two-factor sign-in is always required of supervisors and admins; this asks it of workers too.
    second_factor_for_all: bool = Field(default=False)
    created_at: datetime = utc_field(default_factory=utcnow)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=100)
    role: str = Field(default="worker", max_length=16)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    active: bool = Field(default=True)
    password_hash: str = Field(max_length=255)
    phone: str | None = Field(default=None, max_length=32)
    # For the emergency action card: how responders recognise the worker.
    description: str | None = Field(default=None, max_length=300)
    buddy_id: int | None = Field(default=None)
    # Argon2 hashes. The duress PIN looks like a normal check-in and raises a silent alarm.
    pin_hash: str | None = Field(default=None, max_length=255)
    duress_pin_hash: str | None = Field(default=None, max_length=255)
    # Appointment reminders: the evening before (18:00) and/or this many minutes before (0: none).
    remind_evening_before: bool = Field(default=True)
    remind_minutes_before: int = Field(default=30)
    # The private calendar feed's secret, stored as a SHA-256 digest; a new one revokes the old.
    calendar_token_hash: str | None = Field(default=None, max_length=64, index=True)
    # Two-factor sign-in: the authenticator app's shared secret (base32; it can't be hashed, the
    # server must compute the same codes) and the last time step accepted, so no code works twice.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_last_step: int | None = Field(default=None)
    # Not asked to set up a second factor even when the role or team would require it: the demo
    # accounts made by `seed-demo` (so trying Fieldline stays two commands away).
    second_factor_exempt: bool = Field(default=False)
    created_at: datetime = utc_field(default_factory=utcnow)
    last_login_at: datetime | None = utc_field(default=None, nullable=True)

    # flask-login's protocol, spelled out instead of inheriting UserMixin's defaults.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginSession(SQLModel, table=True):
    """One signed-in device. Kept on the server so logout and deactivation end it for real."""

    __tablename__ = "login_session"

    # SHA-256 of the random token held in the signed session cookie, never the token itself.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    last_seen_at: datetime = utc_field(default_factory=utcnow)
    ended_at: datetime | None = utc_field(default=None, nullable=True)
    # Why it ended (see END_REASONS); the ones in WIPE_REASONS make the phone wipe what it kept.
    end_reason: str | None = Field(default=None, max_length=16)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=200)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins counted in the database, so every web process sees the same count.

    One row per (account, address) and one per address, each by a SHA-256 of what it counts
    (never the email or the address as typed). Rows a day old are forgotten.
    """

    __tablename__ = "sign_in_throttle"

    key: str = Field(primary_key=True, max_length=80)
    failures: int = Field(default=0)
    # The start of the address's counting window (for a pair: its first failure).
    started_at: datetime = utc_field(default_factory=utcnow)
    last_failure_at: datetime = utc_field(default_factory=utcnow, index=True)


class RecoveryCode(SQLModel, table=True):
    """One of the ten single-use codes for signing in without the authenticator app."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    # SHA-256 of a random 64-bit code (high-entropy, so a fast hash is enough; never the code).
    code_hash: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    used_at: datetime | None = utc_field(default=None, nullable=True)


class TrustedDevice(SQLModel, table=True):
    """"Remember this phone for 30 days": the second factor is skipped while its cookie is valid."""

    __tablename__ = "trusted_device"

    # SHA-256 of the random token inside the signed device cookie.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    last_used_at: datetime | None = utc_field(default=None, nullable=True)
    revoked_at: datetime | None = utc_field(default=None, nullable=True)
    user_agent: str | None = Field(default=None, max_length=200)


class Passkey(SQLModel, table=True):
    """A passkey or security key (WebAuthn) that can stand in for the authenticator app's code."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    # The authenticator's credential id (base64url) and COSE public key (base64url): public, not secret.
    credential_id: str = Field(max_length=1400, unique=True)
    public_key: str = Field(max_length=2000)
    sign_count: int = Field(default=0)
    name: str = Field(max_length=60)
    created_at: datetime = utc_field(default_factory=utcnow)
    last_used_at: datetime | None = utc_field(default=None, nullable=True)


TOKEN_PURPOSES = ("invite", "reset")


class AccountToken(SQLModel, table=True):
    """A single-use emailed link: an invitation (72 hours) or a password reset (30 minutes)."""

    __tablename__ = "account_token"

    # SHA-256 of the token in the link, never the token itself.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    purpose: str = Field(max_length=8)
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(default=None, nullable=True)
