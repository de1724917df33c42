"""Workers' PINs: the normal one checks in, the duress one looks the same and raises a silent alarm."""
from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.models import Team, User
from app.services import ValidationError

# Argon2id sized for a PIN on the check-in path, not for a password (argon2-cffi's default took
# 160 ms per check on these 2-core machines, and an I'm safe checks the duress PIN and then the
# normal one). A 4–8 digit PIN has too few values for any hashing cost to stop guessing once the
# database is out; what protects it is the database staying in and the visit timer, not the cost.
_pins = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1)


def pin_problem(pin: str) -> str | None:
    if not pin.isdigit() or not 4 <= len(pin) <= 8:
        return "Use 4 to 8 digits."
    return None


def set_pins(user: User, *, pin: str | None, duress_pin: str | None) -> None:
    """Set or clear the normal and duress PINs (empty clears). They must differ."""
    errors = {}
    for field, value in (("pin", pin), ("duress_pin", duress_pin)):
        if value and (problem := pin_problem(value)):
            errors[field] = problem
    if pin and duress_pin and pin == duress_pin:
        errors["duress_pin"] = "The duress PIN must be different from your normal PIN."
    if errors:
        raise ValidationError(errors)
    user.pin_hash = _pins.hash(pin) if pin else None
    user.duress_pin_hash = _pins.hash(duress_pin) if duress_pin else None


def _matches(stored: str | None, pin: str) -> bool:
    if not stored or not pin:
        return False
    try:
        return _pins.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        return False


def _rehashed(stored: str, pin: str) -> str:
    """A PIN hashed with older (slower) settings is stored again with the current ones once it matches."""
    return _pins.hash(pin) if _pins.check_needs_rehash(stored) else stored


def pin_required(user: User, team: Team) -> bool:
    return team.pin_policy == "required" or user.pin_hash is not None


@dataclass(frozen=True)
class PinEntry:
    """A typed PIN already compared with the worker's PINs. Hashing is the slow part of a check-in,
    so the route does it before the visit's transaction (on SQLite, the database's write lock)."""
    typed: bool
    matched: str | None  # "duress", "normal" or None
    new_hash: str | None  # the matched PIN hashed again, if it was stored with older settings


def read_pin(user: User, pin: str | None) -> PinEntry:
    """The normal PIN is checked first: it is what nearly every check-in types, so it costs one
    hash, not two. (A duress PIN takes one hash longer, ~3 ms: as before, when the duress PIN was
    checked first and the normal one took longer. Nobody can time that through a mobile network.)"""
    pin = (pin or "").strip()
    for kind, stored in (("normal", user.pin_hash), ("duress", user.duress_pin_hash)):
        if _matches(stored, pin):
            fresh = _rehashed(stored, pin)
            return PinEntry(True, kind, fresh if fresh != stored else None)
    return PinEntry(bool(pin), None, None)


def classify_pin(user: User, team: Team, pin: str | PinEntry | None) -> str:
    """"normal", "duress", or raises ValidationError."""
    entry = pin if isinstance(pin, PinEntry) else read_pin(user, pin)
    if entry.matched is not None:
        if entry.new_hash is not None and entry.matched == "duress":
            user.duress_pin_hash = entry.new_hash
        elif entry.new_hash is not None:
            user.pin_hash = entry.new_hash
        return entry.matched
    if not entry.typed and not pin_required(user, team):
        return "normal"
    raise ValidationError({"pin": "Enter your PIN." if not entry.typed else "That PIN isn't right. Try again."})
