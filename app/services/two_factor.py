"""Two-factor sign-in: the authenticator app (TOTP, RFC 6238), recovery codes and remembered phones.

Who must have a second factor is decided at sign-in only: a session that is already signed in is
never interrupted, so a worker's I'm safe, Extend, End visit and Crisis keep working however the
rule changes (safety first; the next sign-in asks for the second factor).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from sqlmodel import Session, or_, select, update

from app.models import RecoveryCode, Team, TrustedDevice, User

ISSUER = "Fieldline"
RECOVERY_CODES = 10
TRUSTED_FOR = timedelta(days=30)
# A code from the step before or after the server's clock is accepted (phones drift).
SKEW_STEPS = 1
ROLES_THAT_NEED_IT = ("supervisor", "admin")


def required(user: User, team: Team | None) -> bool:
    """Whether this account must set up a second factor before it can sign in."""
    if user.second_factor_exempt:
        return False
    return user.role in ROLES_THAT_NEED_IT or bool(team and team.second_factor_for_all)


def enrolled(user: User) -> bool:
    """Has the authenticator app set up (see has_second_factor for passkeys too)."""
    return user.totp_secret is not None


def has_second_factor(session: Session, user: User) -> bool:
    from app.models import Passkey

    return enrolled(user) or session.exec(select(Passkey.id).where(Passkey.user_id == user.id)).first() is not None


# ---- the authenticator app ----

def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    """The QR code as an SVG data: URI (an <img>, so the CSP needs no inline style)."""
    return segno.make(uri, error="m").svg_data_uri(scale=6, border=2, dark="#000", light="#fff")


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - SKEW_STEPS, current + SKEW_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_matches(secret: str, code: str, now: datetime) -> bool:
    """For enrolment: the code the app shows for this (not yet saved) secret."""
    return _matching_step(secret, code, now) is not None


def verify_totp(session: Session, user: User, code: str, *, now: datetime) -> bool:
    """The code is right and its time step has not been used before (a conditional update, so two
    requests racing with the same code can't both win)."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is None:
        return False
    won = session.exec(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won:
        user.totp_last_step = step
    return bool(won)


def enrol(session: Session, user: User, secret: str, code: str, *, now: datetime) -> list[str] | None:
    """Save the app's secret once the person has shown a code from it; returns the new recovery
    codes (shown once), or None when the code was wrong."""
    step = _matching_step(secret, code, now)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step  # the code used to enrol can't also sign in
    return new_recovery_codes(session, user, now=now)


def turn_off(session: Session, user: User, *, now: datetime) -> None:
    """Remove the authenticator, the recovery codes and every remembered phone."""
    user.totp_secret = None
    user.totp_last_step = None
    _drop_recovery_codes(session, user.id, now=now)
    forget_devices(session, user.id, now=now)


def reset(session: Session, user: User, *, now: datetime) -> int:
    """An admin's reset: every second factor goes (app, passkeys, codes, remembered phones);
    returns how many passkeys were removed."""
    from sqlmodel import delete

    from app.models import Passkey

    turn_off(session, user, now=now)
    return session.exec(delete(Passkey).where(Passkey.user_id == user.id)).rowcount


# ---- recovery codes ----

def _hash_code(code: str) -> str:
    return hashlib.sha256("".join(code.lower().split()).replace("-", "").encode()).hexdigest()


def _drop_recovery_codes(session: Session, user_id: int, *, now: datetime) -> None:
    session.exec(update(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
                 .values(used_at=now))


def new_recovery_codes(session: Session, user: User, *, now: datetime) -> list[str]:
    """Ten fresh codes (the old ones stop working); only their hashes are kept."""
    _drop_recovery_codes(session, user.id, now=now)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(8)  # 64 bits
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
        session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(raw), created_at=now))
    return codes


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(session.exec(select(RecoveryCode.id).where(RecoveryCode.user_id == user_id,
                                                          RecoveryCode.used_at.is_(None))).all())


def use_recovery_code(session: Session, user: User, code: str, *, now: datetime) -> bool:
    """Each code works once (a conditional update: the first request to use it wins)."""
    cleaned = "".join(code.lower().split()).replace("-", "")
    if len(cleaned) != 16:
        return False
    return bool(session.exec(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_code(cleaned),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    ).rowcount)


def verify(session: Session, user: User, code: str, *, now: datetime) -> str | None:
    """Check a code typed at sign-in: "app", "recovery" (one of the codes was spent) or None."""
    if verify_totp(session, user, code, now=now):
        return "app"
    if use_recovery_code(session, user, code, now=now):
        return "recovery"
    return None


# ---- remembered phones ----

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember_device(session: Session, user: User, *, now: datetime, user_agent: str | None) -> str:
    """Trust this phone for 30 days; returns the token for its (signed) device cookie."""
    token = secrets.token_urlsafe(32)
    session.add(TrustedDevice(id=_digest(token), user_id=user.id, created_at=now, expires_at=now + TRUSTED_FOR,
                              user_agent=(user_agent or "")[:200] or None))
    return token


def device_trusted(session: Session, user: User, token: str | None, *, now: datetime) -> bool:
    if not token:
        return False
    device = session.get(TrustedDevice, _digest(token))
    if device is None or device.user_id != user.id or device.revoked_at is not None or device.expires_at <= now:
        return False
    device.last_used_at = now
    return True


def trusted_devices(session: Session, user_id: int, *, now: datetime) -> list[TrustedDevice]:
    return list(session.exec(select(TrustedDevice).where(
        TrustedDevice.user_id == user_id, TrustedDevice.revoked_at.is_(None), TrustedDevice.expires_at > now,
    ).order_by(TrustedDevice.created_at.desc())).all())


def forget_devices(session: Session, user_id: int, *, now: datetime, device_id: str | None = None) -> int:
    """Stop trusting one remembered phone (by its stored id) or all of them; returns how many."""
    query = update(TrustedDevice).where(TrustedDevice.user_id == user_id, TrustedDevice.revoked_at.is_(None))
    if device_id is not None:
        query = query.where(TrustedDevice.id == device_id)
    return session.exec(query.values(revoked_at=now)).rowcount
