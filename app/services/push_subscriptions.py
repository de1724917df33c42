"""Registering and removing the devices that get push messages."""
import base64
import binascii
from datetime import datetime
from ipaddress import ip_address
from urllib.parse import urlsplit

from sqlmodel import Session, select

from app.models import PushSubscription, User
from app.services import ValidationError


def _b64url_length(value: str) -> int | None:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return None


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host or "").is_loopback
    except ValueError:
        return False


def parse(data: object) -> tuple[str, str, str]:
    """Check a browser's PushSubscription.toJSON(); returns (endpoint, p256dh, auth)."""
    if not isinstance(data, dict):
        raise ValidationError({"": "Send the subscription as a JSON object."})
    endpoint = data.get("endpoint")
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    errors = {}
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    # Push services are always https; plain http is accepted only on this machine (tests, dev).
    if not parts or len(endpoint) > 2000 or not (
        parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname))
    ):
        errors["endpoint"] = "The endpoint must be an https URL."
    if not isinstance(p256dh, str) or _b64url_length(p256dh) != 65:
        errors["keys.p256dh"] = "keys.p256dh must be a base64url P-256 public key."
    if not isinstance(auth, str) or _b64url_length(auth) != 16:
        errors["keys.auth"] = "keys.auth must be a base64url 16-byte secret."
    if errors:
        raise ValidationError(errors)
    return endpoint, p256dh, auth


def register(session: Session, user: User, data: object, *, user_agent: str | None, now: datetime) -> PushSubscription:
    endpoint, p256dh, auth = parse(data)
    subscription = session.exec(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).first()
    if subscription is None:
        subscription = PushSubscription(endpoint=endpoint, user_id=user.id, p256dh=p256dh, auth=auth, created_at=now)
    # The same phone signing in as someone else now gets that person's messages, not the last one's.
    subscription.user_id, subscription.p256dh, subscription.auth = user.id, p256dh, auth
    subscription.user_agent = (user_agent or "")[:200] or None
    session.add(subscription)
    session.flush()
    return subscription


def remove(session: Session, user: User, endpoint: str) -> bool:
    subscription = session.exec(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id)
    ).first()
    if subscription is None:
        return False
    session.delete(subscription)
    return True


def count_for(session: Session, user: User) -> int:
    return len(session.exec(select(PushSubscription.id).where(PushSubscription.user_id == user.id)).all())
