"""Passkeys and security keys (WebAuthn, with the `webauthn` library) as a second factor.

The server makes a random challenge, the authenticator signs it together with this site's
origin, and the library checks the signature against the public key kept at registration. A
sign counter that goes backwards (a cloned key) is refused. Nothing here is secret on the server."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import webauthn
from sqlmodel import Session, select
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor,
                                      ResidentKeyRequirement, UserVerificationRequirement)

from app.models import Passkey, User

MAX_PER_USER = 10


@dataclass(frozen=True)
class Site:
    """Who the authenticator signs for: the relying party id (the host) and the page origin."""
    rp_id: str
    origin: str
    name: str = "Fieldline"


def for_user(session: Session, user_id: int) -> list[Passkey]:
    return list(session.exec(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)).all())


def _descriptors(keys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id)) for key in keys]


def registration_options(session: Session, user: User, site: Site) -> tuple[str, bytes]:
    """The options for navigator.credentials.create (JSON) and the challenge to keep until the answer."""
    options = webauthn.generate_registration_options(
        rp_id=site.rp_id, rp_name=site.name, user_id=str(user.id).encode(), user_name=user.email,
        user_display_name=user.name,
        exclude_credentials=_descriptors(for_user(session, user.id)),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED),
    )
    return webauthn.options_to_json(options), options.challenge


def register(session: Session, user: User, credential: dict, challenge: bytes, site: Site, *, name: str,
             now: datetime) -> Passkey | None:
    """Check the authenticator's answer and keep its public key; None when it doesn't verify."""
    if len(for_user(session, user.id)) >= MAX_PER_USER:
        return None
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=site.rp_id,
            expected_origin=site.origin)
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError):
        return None
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.exec(select(Passkey.id).where(Passkey.credential_id == credential_id)).first() is not None:
        return None
    key = Passkey(user_id=user.id, credential_id=credential_id,
                  public_key=bytes_to_base64url(verified.credential_public_key), sign_count=verified.sign_count,
                  name=(name or "Passkey").strip()[:60] or "Passkey", created_at=now)
    session.add(key)
    return key


def authentication_options(session: Session, user: User, site: Site) -> tuple[str, bytes]:
    options = webauthn.generate_authentication_options(
        rp_id=site.rp_id, allow_credentials=_descriptors(for_user(session, user.id)),
        user_verification=UserVerificationRequirement.PREFERRED)
    return webauthn.options_to_json(options), options.challenge


def authenticate(session: Session, user: User, credential: dict, challenge: bytes, site: Site, *,
                 now: datetime) -> Passkey | None:
    """The user's passkey that signed this challenge for this site, or None."""
    raw_id = credential.get("rawId") or credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(raw_id, str):
        return None
    key = session.exec(select(Passkey).where(Passkey.user_id == user.id, Passkey.credential_id == raw_id)).first()
    if key is None:
        return None
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=site.rp_id,
            expected_origin=site.origin, credential_public_key=base64url_to_bytes(key.public_key),
            credential_current_sign_count=key.sign_count)
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        return None
    key.sign_count = verified.new_sign_count
    key.last_used_at = now
    return key


def remove(session: Session, user_id: int, passkey_id: int) -> bool:
    key = session.get(Passkey, passkey_id)
    if key is None or key.user_id != user_id:
        return False
    session.delete(key)
    return True
