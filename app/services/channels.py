"""The three ways a message leaves Fieldline: web push, email, and an SMS/voice gateway.

Each sender returns a SendResult and never raises for a delivery problem, so the delivery loop
can decide: sent, retry later, the device is gone, or a permanent failure.
"""
from __future__ import annotations

import json
import smtplib
import ssl
import threading
import time
import weakref
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from py_vapid import Vapid
from pywebpush import WebPusher

from app.services import outbound, push_subscriptions

SENT, RETRY, GONE, FAILED = "sent", "retry", "gone", "failed"
CHANNELS = ("push", "email", "sms")


@dataclass
class SendResult:
    outcome: str
    detail: str = ""
    retry_after: float | None = None


@dataclass
class ChannelConfig:
    vapid: Vapid
    vapid_subject: str
    push_timeout: float
    smtp_url: str | None
    mail_from: str
    sms_gateway_url: str | None
    sms_gateway_token: str | None
    base_url: str | None
    push_rule: push_subscriptions.EndpointRule = push_subscriptions.EndpointRule()
    smtp_timeout: float = 15.0
    sms_timeout: float = 15.0


def configured(config: "ChannelConfig") -> set[str]:
    """Push always works (the keys are generated); email and SMS need their provider set."""
    return {"push"} | ({"email"} if config.smtp_url else set()) | ({"sms"} if config.sms_gateway_url else set())


_local = threading.local()


def _http() -> outbound.Outbound:
    """One keep-alive connection pool per sending thread: a burst of alerts reuses connections to
    the push service and the gateway instead of opening one per message."""
    if not hasattr(_local, "http"):
        _local.http = outbound.Outbound()
    return _local.http


def _push_http(rule: push_subscriptions.EndpointRule) -> outbound.Outbound:
    """Like _http(), but its connections refuse private addresses (unless the rule allows them)."""
    pools = _local.__dict__.setdefault("push_http", {})
    if rule not in pools:
        pools[rule] = outbound.Outbound(guarded=not rule.allow_private)
    return pools[rule]


# A VAPID token may be used for many messages until it expires (RFC 8292): signing one per origin
# every hour instead of one per message, with 12 hours' validity as pywebpush gives it.
VAPID_LIFETIME = 12 * 3600
VAPID_RENEW_AFTER = 3600
# Per key (held weakly: a key no longer used takes its tokens with it), per subject and audience.
_vapid_tokens: "weakref.WeakKeyDictionary[Vapid, dict[tuple[str, str], tuple[float, dict]]]" = weakref.WeakKeyDictionary()


def _vapid_headers(vapid: Vapid, subject: str, audience: str) -> dict:
    tokens = _vapid_tokens.setdefault(vapid, {})
    now = time.time()
    signed = tokens.get((subject, audience))
    if signed is None or now - signed[0] > VAPID_RENEW_AFTER:
        headers = vapid.sign({"sub": subject, "aud": audience, "exp": int(now) + VAPID_LIFETIME})
        signed = tokens[(subject, audience)] = (now, headers)
    return dict(signed[1])


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return min(float(value), 3600.0) if value else None
    except ValueError:
        return None


def send_push(config: ChannelConfig, *, endpoint: str, p256dh: str, auth: str, payload: dict,
              ttl: int, urgent: bool, topic: str | None) -> SendResult:
    # Checked again now: the rule may have changed since the device registered (and see _push_http).
    refused = push_subscriptions.check_endpoint(endpoint, config.push_rule, resolve=False)
    if refused:
        return SendResult(FAILED, f"endpoint refused: {refused}")
    parts = urlsplit(endpoint)
    headers = {"Urgency": "high" if urgent else "normal",
               **_vapid_headers(config.vapid, config.vapid_subject, f"{parts.scheme}://{parts.netloc}")}
    if topic:
        headers["Topic"] = topic  # the push service replaces an undelivered message with this topic
    try:
        # pywebpush encrypts (aes128gcm) and sets the headers; the connection is ours (outbound.py).
        response = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                             requests_session=_push_http(config.push_rule)).send(
            json.dumps(payload, separators=(",", ":")), headers, ttl=ttl, timeout=config.push_timeout)
    except push_subscriptions.EndpointRefused:
        return SendResult(FAILED, f"endpoint refused: {push_subscriptions.PRIVATE_PEER}")
    except outbound.Unreachable as error:
        return SendResult(RETRY, outbound.retry_reason(error, "push service"))
    status = response.status_code
    if status <= 202:
        return SendResult(SENT, f"push service answered {status}")
    if status in (404, 410):
        return SendResult(GONE, f"push service answered {status}: subscription expired")
    if status == 429 or status >= 500:
        return SendResult(RETRY, f"push service answered {status}", _retry_after(response))
    return SendResult(FAILED, f"push service refused the message ({status})")


def send_email(config: ChannelConfig, *, to: str, subject: str, text: str, html: str,
               attachments: list[tuple[str, bytes]] | None = None, reference: str | None = None) -> SendResult:
    if not config.smtp_url:
        return SendResult(FAILED, "email is not configured (SMTP_URL)")
    url = urlsplit(config.smtp_url)
    options = parse_qs(url.query)
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = to
    message["Subject"] = subject
    if reference:  # the same Message-ID on a repeat: mail systems and clients treat it as one message
        message["Message-ID"] = f"<{reference}@{_domain(config.mail_from)}>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for filename, content in attachments or []:
        message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    try:
        smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        with smtp_class(url.hostname, url.port or (465 if url.scheme == "smtps" else 25),
                         timeout=config.smtp_timeout) as smtp:
            if options.get("starttls", ["0"])[0] in ("1", "true", "yes"):
                smtp.starttls(context=ssl.create_default_context())
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        return SendResult(FAILED, f"mail server refused the address ({error.recipients and 'recipient refused'})")
    except smtplib.SMTPResponseException as error:
        outcome = RETRY if 400 <= error.smtp_code < 500 else FAILED
        return SendResult(outcome, f"mail server answered {error.smtp_code}")
    except (OSError, smtplib.SMTPException) as error:
        return SendResult(RETRY, f"mail server unreachable ({type(error).__name__})")
    if refused:
        return SendResult(FAILED, "mail server refused the address")
    return SendResult(SENT, "accepted by the mail server")


def _domain(address: str) -> str:
    domain = address.rsplit("@", 1)[-1].strip(" >") if "@" in address else ""
    return domain or "fieldline.invalid"


def send_sms(config: ChannelConfig, *, to: str, body: str, urgent: bool, reference: str,
             voice: bool = False) -> SendResult:
    """POST the message to the organisation's SMS/voice gateway and record its answer.

    `reference` is stable for one delivery and sent twice over (the Idempotency-Key header and the
    body's reference): the gateway must send a repeat of a reference it has seen only once, so the
    at-least-once retries after a timeout or a crash never reach the phone twice (README)."""
    if not config.sms_gateway_url:
        return SendResult(FAILED, "no SMS gateway is configured (SMS_GATEWAY_URL)")
    headers = {"Content-Type": "application/json", "Idempotency-Key": reference}
    if config.sms_gateway_token:
        headers["Authorization"] = f"Bearer {config.sms_gateway_token}"
    message = {"to": to, "body": body, "priority": "high" if urgent else "normal",
               "channel": "voice" if voice else "sms", "reference": reference}
    try:
        response = _http().post(config.sms_gateway_url, json=message, headers=headers, timeout=config.sms_timeout)
    except outbound.Unreachable as error:
        return SendResult(RETRY, outbound.retry_reason(error, "SMS gateway"))
    answer = f"{response.status_code} {response.text[:400]}"
    if response.ok:
        return SendResult(SENT, answer)
    if response.status_code == 409:  # it already has this reference: the text was sent before
        return SendResult(SENT, answer)
    if response.status_code == 429 or response.status_code >= 500:
        return SendResult(RETRY, answer, _retry_after(response))
    if 300 <= response.status_code < 400:  # not followed: set SMS_GATEWAY_URL to where it points
        return SendResult(FAILED, f"SMS gateway redirected ({response.status_code}) to "
                                  f"{response.headers.get('Location', 'elsewhere')}: set SMS_GATEWAY_URL to it")
    return SendResult(FAILED, answer)
