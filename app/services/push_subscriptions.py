"""Registering and removing the devices that get push messages, and which push endpoints the
server may send to.

An endpoint is a URL the server POSTs to, chosen by whoever registers it: left unchecked, any
signed-in user could make the worker send requests into the organisation's own network (server-side
request forgery). So an endpoint must be https, on a public address (and, when FIELDLINE_PUSH_HOSTS
is set, on one of those push services). It is checked when registered, and again when sent: the
connection itself refuses a private address, whatever the name resolves to by then (DNS rebinding).
"""
import base64
import binascii
import socket
from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv4Address, IPv6Network, ip_address
from urllib.parse import urlsplit

from sqlmodel import Session, select

from app.models import PushSubscription, User
from app.services import ValidationError

TAKEN = ("This phone is already registered for another account's alerts. That person must switch "
         "alerts off (or sign out) first, or an admin can sign them out everywhere.")
_NAT64 = IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class EndpointRule:
    """Which push endpoints are accepted. `hosts`: host names or suffixes (`push.apple.com` also
    accepts `web.push.apple.com`); empty accepts any public host. `allow_private`: also plain http
    and private, loopback and link-local addresses — for tests and development only."""

    hosts: tuple[str, ...] = ()
    allow_private: bool = False


def rule_from(settings) -> EndpointRule:
    return EndpointRule(hosts=settings.push_hosts, allow_private=settings.push_allow_private)


class EndpointTaken(Exception):
    """The endpoint is registered to another user, who has not removed it."""


def is_public(address: str) -> bool:
    """A globally routable unicast address (not private, loopback, link-local, CGNAT, reserved)."""
    try:
        ip = ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    elif ip.version == 6 and ip in _NAT64:
        ip = IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def _host_allowed(host: str, hosts: tuple[str, ...]) -> bool:
    for entry in hosts:
        entry = entry.lower().lstrip("*").lstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return not hosts


def check_endpoint(url: object, rule: EndpointRule, *, resolve: bool = True) -> str | None:
    """What is wrong with sending push messages to this URL, or None when it may be used.
    `resolve`: also look the name up now and require every address to be public (at registration;
    at send time the connection checks the address it actually reached, see services/outbound.py)."""
    if not isinstance(url, str) or len(url) > 2000:
        return "The endpoint must be an https URL."
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").rstrip(".").lower(), parts.port
    except ValueError:
        return "The endpoint must be an https URL."
    try:
        literal = ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    local = host == "localhost" or host.endswith(".localhost") or (literal is not None and not is_public(host.strip("[]")))
    # Plain http only to a receiver on this machine or network, and only when allowed (tests, development).
    if parts.scheme != "https" and not (parts.scheme == "http" and rule.allow_private and local):
        return "The endpoint must be an https URL."
    if not host or parts.username is not None or parts.password is not None:
        return "The endpoint must be an https URL with a host name."
    if not _host_allowed(host, rule.hosts):
        return "That push service is not one this server sends to (FIELDLINE_PUSH_HOSTS)."
    if rule.allow_private:
        return None
    if local:
        return "The endpoint must be on a public address."
    if literal is not None:
        return None
    if not resolve:
        return None
    try:
        found = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return "The endpoint's host name could not be found. Try again when you have signal."
    if not found or not all(is_public(info[4][0]) for info in found):
        return "The endpoint must be on a public address."
    return None


# ---- at send time: the connection refuses a private peer (no window between check and connect) ----

PRIVATE_PEER = "the endpoint's host resolves to a private address"


class EndpointRefused(OSError):
    """The push endpoint's name led to an address the server must not send to (refused by the
    sending connection as it opens its socket: services/outbound.py)."""


# ---- registering and removing ----

def _b64url_length(value: str) -> int | None:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return None


def parse(data: object, rule: EndpointRule) -> tuple[str, str, str]:
    """Check a browser's PushSubscription.toJSON(); returns (endpoint, p256dh, auth)."""
    if not isinstance(data, dict):
        raise ValidationError({"": "Send the subscription as a JSON object."})
    endpoint = data.get("endpoint")
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    errors = {}
    problem = check_endpoint(endpoint, rule)
    if problem:
        errors["endpoint"] = problem
    if not isinstance(p256dh, str) or _b64url_length(p256dh) != 65:
        errors["keys.p256dh"] = "keys.p256dh must be a base64url P-256 public key."
    if not isinstance(auth, str) or _b64url_length(auth) != 16:
        errors["keys.auth"] = "keys.auth must be a base64url 16-byte secret."
    if errors:
        raise ValidationError(errors)
    return endpoint, p256dh, auth


def register(session: Session, user: User, data: object, *, rule: EndpointRule, login_session_id: str | None = None,
             user_agent: str | None, now: datetime) -> PushSubscription:
    """Register (or refresh) this user's device. An endpoint another user registered stays theirs
    until they remove it (EndpointTaken): re-registering it must not move their alerts to you."""
    endpoint, p256dh, auth = parse(data, rule)
    subscription = session.exec(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).first()
    if subscription is not None and subscription.user_id != user.id:
        raise EndpointTaken
    if subscription is None:
        subscription = PushSubscription(endpoint=endpoint, user_id=user.id, p256dh=p256dh, auth=auth, created_at=now)
    subscription.p256dh, subscription.auth = p256dh, auth
    subscription.login_session_id = login_session_id  # signing this session out unregisters the device
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
