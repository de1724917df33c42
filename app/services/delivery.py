"""The delivery outbox: producers enqueue, the worker loop claims, sends and records.

- enqueue() inserts one row per (event, recipient, channel[, device]) in the producer's own
  transaction; the unique dedupe key makes a second insert a no-op.
- claim() takes due rows with a lease in one conditional UPDATE (SKIP LOCKED on PostgreSQL; SQLite
  serialises writers), so two workers never hold the same row. A row whose worker died mid-send
  becomes due again when its lease expires: at-least-once, and the push Topic makes a repeat
  replace the first on the phone.
- Network I/O happens outside any transaction; the outcome is recorded afterwards, and only by
  the lease holder of that attempt (a later claim supersedes it).
- Only channels this deployment has set up get rows (a channel that is not configured is not
  tried and is not a failure).
- The worker's job (one lane per channel, never waiting on a send) is app/services/delivery_job.py.
"""
from __future__ import annotations

import hashlib
import random
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import Integer, and_, bindparam, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.bulk import insert_rows
from app.db import built_once, claiming, unit_of_work
from app.models import Delivery, NotificationPreference, PushSubscription, User
from app.services import channels

# Per kind: how long a push waits on the push service for an offline phone, how often we retry,
# and how fast. Safety messages live longer, retry sooner and more often.
POLICY = {
    "safety": {"ttl": 4 * 3600, "max_attempts": 12, "backoff": 2, "cap": 60},
    "reminder": {"ttl": 3600, "max_attempts": 6, "backoff": 30, "cap": 3600},
    "referral": {"ttl": 24 * 3600, "max_attempts": 6, "backoff": 30, "cap": 3600},
    "test": {"ttl": 300, "max_attempts": 3, "backoff": 5, "cap": 60},
    # "Check in due soon": useless once the deadline has passed, so short-lived.
    "visit": {"ttl": 300, "max_attempts": 3, "backoff": 5, "cap": 30},
    # A text to someone who is not a user (a person's appointment reminder), sent word for word.
    "text": {"ttl": 3600, "max_attempts": 6, "backoff": 30, "cap": 3600},
    # A group facilitator asking a key worker to look at an attendance mark.
    "group": {"ttl": 24 * 3600, "max_attempts": 6, "backoff": 30, "cap": 3600},
}
# Channels set up per database engine (a process may hold several apps, as the tests do).
_CONFIGURED: "weakref.WeakKeyDictionary[Engine, frozenset[str]]" = weakref.WeakKeyDictionary()
DEFAULT_CHANNELS = {"reminder": {"push"}, "referral": {"push", "email"}, "test": {"push"}, "visit": {"push"},
                    "group": {"push", "email"}}
PREFERENCE_KINDS = ("reminder", "referral")


@dataclass
class Message:
    """What to say. Never personal data: the app shows details once the phone is unlocked."""

    kind: str
    event_ref: str
    title: str
    body: str
    url: str
    ack_url: str | None = None
    topic: str | None = None


def register_channels(engine: Engine, names: set[str]) -> None:
    """Which channels this deployment has set up; rows are queued for those only."""
    _CONFIGURED[engine] = frozenset(names)


def configured_channels(session: Session) -> frozenset[str]:
    return _CONFIGURED.get(session.get_bind(), frozenset(channels.CHANNELS))


def channels_for(session: Session, user: User, kind: str) -> set[str]:
    """What the person chose (or gets by default); what is sent is this among those set up."""
    return _channels(kind, _preferences(session, [user.id], kind).get(user.id))


def _preferences(session: Session, user_ids, kind: str) -> dict[int, NotificationPreference]:
    if kind not in PREFERENCE_KINDS or not user_ids:
        return {}
    return {p.user_id: p for p in session.exec(select(NotificationPreference).where(
        NotificationPreference.user_id.in_(set(user_ids)), NotificationPreference.kind == kind)).all()}


def _channels(kind: str, preference: NotificationPreference | None) -> set[str]:
    if kind == "safety":
        return {"push", "email", "sms"}  # whatever the person chose for other messages
    if kind not in PREFERENCE_KINDS or preference is None:
        return set(DEFAULT_CHANNELS.get(kind, {"push"}))
    return {name for name in ("push", "email", "sms") if getattr(preference, name)}


def set_preferences(session: Session, user: User, choices: dict[str, set[str]]) -> None:
    for kind in PREFERENCE_KINDS:
        wanted = choices.get(kind, set())
        preference = session.exec(
            select(NotificationPreference).where(
                NotificationPreference.user_id == user.id, NotificationPreference.kind == kind
            )
        ).first() or NotificationPreference(user_id=user.id, kind=kind)
        preference.push, preference.email, preference.sms = ("push" in wanted, "email" in wanted, "sms" in wanted)
        session.add(preference)


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> int:
    return len(insert_rows(session.connection(), Delivery.__table__, rows, returning=("id",),
                           skip_duplicate="dedupe_key"))


def enqueue(session: Session, message: Message, recipient: User, *, now: datetime) -> int:
    """Queue a message to a user on every channel they get for its kind; returns rows added."""
    return enqueue_many(session, [(message, recipient)], now=now)


def enqueue_many(session: Session, messages: list[tuple[Message, User]], *, now: datetime) -> int:
    """enqueue() for many (message, recipient) pairs at once: the recipients' preferences and
    devices are looked up once for all of them and the rows go in one statement (a burst of alerts
    raises hundreds together). Returns rows added."""
    configured = configured_channels(session)
    preferences = {kind: _preferences(session, [r.id for m, r in messages if m.kind == kind], kind)
                   for kind in {m.kind for m, _r in messages}}
    wanted = [_channels(m.kind, preferences[m.kind].get(r.id)) & configured for m, r in messages]
    pushed = {r.id for (_m, r), channels_ in zip(messages, wanted) if "push" in channels_}
    devices: dict[int, list[int]] = {}
    if pushed:
        for subscription_id, user_id in session.exec(
            select(PushSubscription.id, PushSubscription.user_id).where(PushSubscription.user_id.in_(pushed))
            .order_by(PushSubscription.id)
        ).all():
            devices.setdefault(user_id, []).append(subscription_id)
    rows = []
    for (message, recipient), channels_ in zip(messages, wanted):
        policy = POLICY[message.kind]
        common = {
            "kind": message.kind, "event_ref": message.event_ref, "recipient_id": recipient.id,
            "high_priority": message.kind == "safety", "title": message.title, "body": message.body,
            "url": message.url, "ack_url": message.ack_url, "topic": message.topic,
            "ttl_seconds": policy["ttl"], "max_attempts": policy["max_attempts"], "status": "pending",
            "attempts": 0, "next_attempt_at": now, "created_at": now,
            "subscription_id": None, "address": None,
        }
        base_key = f"{message.event_ref}:{recipient.id}"
        if "push" in channels_:
            for subscription_id in devices.get(recipient.id, ()):
                rows.append({**common, "channel": "push", "subscription_id": subscription_id,
                             "dedupe_key": f"{base_key}:push:{subscription_id}"})
        if "email" in channels_ and recipient.email:
            rows.append({**common, "channel": "email", "address": recipient.email,
                         "dedupe_key": f"{base_key}:email"})
        if "sms" in channels_ and recipient.phone:
            rows.append({**common, "channel": "sms", "address": recipient.phone,
                         "dedupe_key": f"{base_key}:sms"})
    return _insert_ignoring_duplicates(session, rows)


def enqueue_text(session: Session, *, to: str, body: str, event_ref: str, on_behalf_of: User, now: datetime) -> int:
    """Queue an SMS to a phone number that is not a user's, word for word (no link, no prefix). The
    row is logged against the user it was sent for."""
    if "sms" not in configured_channels(session):
        return 0
    policy = POLICY["text"]
    return _insert_ignoring_duplicates(session, [{
        "kind": "text", "event_ref": event_ref, "recipient_id": on_behalf_of.id, "high_priority": False,
        "title": "Text", "body": body, "url": "", "ack_url": None, "topic": None, "ttl_seconds": policy["ttl"],
        "max_attempts": policy["max_attempts"], "status": "pending", "attempts": 0, "next_attempt_at": now,
        "created_at": now, "subscription_id": None, "address": to, "channel": "sms",
        "dedupe_key": f"{event_ref}:text"}])


def enqueue_email(session: Session, *, to: str, subject: str, text: str, attachment: tuple[str, bytes],
                  event_ref: str, on_behalf_of: User, now: datetime) -> int:
    """Queue an email with an attachment to an address that is not a user's (a partner service).
    Returns 0 when email is not set up."""
    if "email" not in configured_channels(session):
        return 0
    policy = POLICY["referral"]
    return _insert_ignoring_duplicates(session, [{
        "kind": "referral", "event_ref": event_ref, "recipient_id": on_behalf_of.id, "high_priority": False,
        "title": subject[:120], "body": text[:1000], "url": "", "ack_url": None, "topic": None,
        "ttl_seconds": policy["ttl"], "max_attempts": policy["max_attempts"], "status": "pending", "attempts": 0,
        "next_attempt_at": now, "created_at": now, "subscription_id": None, "address": to, "channel": "email",
        "dedupe_key": f"{event_ref}:email", "attachment_name": attachment[0], "attachment": attachment[1]}])


def _due(now, channel=None):
    """Due to be sent: pending and its time come, or sending with its lease run out (its sender
    died). `now` and `channel` are values, or parameters of a statement built once."""
    due = or_(
        and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
        and_(Delivery.status == "sending", Delivery.lease_until < now),
    )
    return due if channel is None else and_(Delivery.channel == channel, due)


def claim(engine: Engine, *, now: datetime, owner: str, lease: timedelta, limit: int = 100,
          channel: str | None = None, urgent_only: bool = False) -> list[int]:
    statement = _claim_statement(engine.dialect.name, channel is not None, urgent_only)
    with unit_of_work(engine) as session:
        return list(session.connection().execute(statement, {
            "claim_now": now, "claim_owner": owner, "claim_until": now + lease, "claim_limit": limit,
            "claim_channel": channel}).scalars().all())


@built_once
def _claim_statement(dialect: str, by_channel: bool, urgent_only: bool):
    """The claim's UPDATE, built once for each of its shapes with its values as parameters: built
    for each claim, its expressions and their cache key cost more than running it (a burst claims
    thousands of times)."""
    table = Delivery.__table__  # a Core UPDATE: the ORM's would fetch the rows to synchronise a session
    now = bindparam("claim_now", type_=table.c.next_attempt_at.type)
    due = _due(now, bindparam("claim_channel", type_=table.c.channel.type) if by_channel else None)
    candidates = (
        select(Delivery.id)
        .where(due, *([Delivery.high_priority] if urgent_only else []))
        .order_by(Delivery.high_priority.desc(), Delivery.next_attempt_at, Delivery.id)
        .limit(bindparam("claim_limit", type_=Integer))
    )
    return (
        table.update()
        .where(claiming(dialect, table.c.id, candidates, due))
        .values(
            status="sending",
            lease_owner=bindparam("claim_owner", type_=table.c.lease_owner.type),
            lease_until=bindparam("claim_until", type_=table.c.lease_until.type),
            attempts=table.c.attempts + 1,
            first_attempt_at=func.coalesce(table.c.first_attempt_at, now),
        )
        .returning(table.c.id)
    )


@dataclass
class Outgoing:
    id: int
    kind: str
    channel: str
    dedupe_key: str
    urgent: bool
    title: str
    body: str
    url: str
    ack_url: str | None
    topic: str | None
    ttl: int
    address: str | None
    event_ref: str
    subscription: tuple[str, str, str] | None  # endpoint, p256dh, auth
    attachment: tuple[str, bytes] | None = None
    attempts: int = 0  # this claim's attempt: only its holder may record or renew it
    reference: str = ""  # stable per delivery: the provider de-duplicates repeats on it
    claimed_at: datetime | None = None
    max_attempts: int = 1
    subscription_id: int | None = None


def reference(dedupe_key: str, created_at: datetime) -> str:
    """Opaque and stable for one delivery, and different for a row of another database that happens
    to reuse the same ids (a restored or reset database must not have its texts dropped)."""
    return "fl-" + hashlib.sha256(f"{dedupe_key}|{created_at.isoformat()}".encode()).hexdigest()[:32]


_LOADED = (Delivery.id, Delivery.kind, Delivery.channel, Delivery.dedupe_key, Delivery.high_priority, Delivery.title,
           Delivery.body, Delivery.url, Delivery.ack_url, Delivery.topic, Delivery.ttl_seconds, Delivery.address,
           Delivery.event_ref, Delivery.subscription_id, Delivery.attachment_name, Delivery.attachment,
           Delivery.attempts, Delivery.created_at, Delivery.max_attempts)


def load(engine: Engine, ids: list[int]) -> list[Outgoing]:
    rows_by_id, subscriptions_by_id = _load_statements()
    with Session(engine) as session:
        # The columns as plain rows: a batch is a hundred rows, each sent once and never changed here.
        connection = session.connection()
        rows = connection.execute(rows_by_id, {"load_ids": ids}).all()
        subscription_ids = list({row.subscription_id for row in rows if row.subscription_id})
        subscriptions = {
            sub.id: (sub.endpoint, sub.p256dh, sub.auth)
            for sub in connection.execute(subscriptions_by_id, {"load_ids": subscription_ids})
        } if subscription_ids else {}
        return [
            Outgoing(row.id, row.kind, row.channel, row.dedupe_key, row.high_priority, row.title, row.body,
                     row.url, row.ack_url, row.topic, row.ttl_seconds, row.address, row.event_ref,
                     subscriptions.get(row.subscription_id),
                     (row.attachment_name, row.attachment) if row.attachment is not None else None,
                     row.attempts, reference(row.dedupe_key, row.created_at), max_attempts=row.max_attempts,
                     subscription_id=row.subscription_id)
            for row in rows
        ]


@built_once
def _load_statements():
    """load()'s two SELECTs, built once (as the claim: built each time, they cost more than they ran)."""
    ids = bindparam("load_ids", expanding=True)
    table = PushSubscription.__table__
    return (select(*_LOADED).where(Delivery.id.in_(ids)),
            select(table.c.id, table.c.endpoint, table.c.p256dh, table.c.auth).where(table.c.id.in_(ids)))


def push_payload(item: Outgoing) -> dict:
    """The whole push message: a type, an opaque reference, generic text and where to go."""
    return {"type": item.kind, "ref": item.event_ref, "title": item.title, "body": item.body,
            "url": item.url, "ack_url": item.ack_url, "tag": item.topic}


def _send(config: channels.ChannelConfig, item: Outgoing) -> channels.SendResult:
    if item.channel == "push":
        if item.subscription is None:
            return channels.SendResult(channels.GONE, "device no longer registered")
        endpoint, p256dh, auth = item.subscription
        return channels.send_push(config, endpoint=endpoint, p256dh=p256dh, auth=auth, payload=push_payload(item),
                                  ttl=item.ttl, urgent=item.urgent, topic=item.topic)
    link = (config.base_url or "") + item.url
    if item.channel == "email" and item.attachment is not None:  # to a partner service, not a user
        return channels.send_email(config, to=item.address, subject=item.title, text=item.body,
                                   html=f"<p>{escape(item.body)}</p>", attachments=[item.attachment],
                                   reference=item.reference)
    if item.channel == "email":
        text = f"{item.body}\n\nOpen Fieldline: {link}\n"
        # Everything written into the HTML part is escaped: a message is text, never markup.
        html = f"<p>{escape(item.body)}</p><p><a href=\"{escape(link)}\">Open Fieldline</a></p>"
        return channels.send_email(config, to=item.address, subject=f"Fieldline: {item.title}", text=text, html=html,
                                   reference=item.reference)
    if item.channel == "sms" and item.kind == "text":
        return channels.send_sms(config, to=item.address, body=item.body, urgent=False, reference=item.reference)
    if item.channel == "sms":
        return channels.send_sms(config, to=item.address, body=f"Fieldline: {item.title}. {item.body} {link}".strip(),
                                 urgent=item.urgent, reference=item.reference)
    return channels.SendResult(channels.FAILED, f"unknown channel {item.channel}")


def backoff(kind: str, attempts: int) -> float:
    policy = POLICY[kind]
    delay = min(policy["backoff"] * 2 ** max(0, attempts - 1), policy["cap"])
    return delay * random.uniform(0.8, 1.2)  # jitter: retries from many rows don't arrive together


def still_sending(status):
    """`status = 'sending'` for a row already found by its id, written so PostgreSQL cannot take
    the (status, next_attempt_at) index for it instead of the primary key: until vacuum, a burst
    leaves that index's "sending" range full of dead row versions, and an outcome's UPDATE planned
    through it walked every one (0.62 ms each, 1.25 s of a burst of 1,000's database time)."""
    return status.concat("") == "sending"


def record(engine: Engine, outcomes: list[tuple[Outgoing, channels.SendResult]], *, now: datetime,
           owner: str | None = None) -> None:
    """Write what happened to a batch of sends, in one transaction: one statement per kind of
    outcome, run for every row of the batch at once.

    Each row is written only while it is still "sending" (an acknowledgement may have cancelled
    it since: PostgreSQL's UPDATE waits for the cancel's row lock and then re-checks, so a cancel
    is never overwritten) and, given `owner`, only under this claim's lease (a later claim holds
    the row now: its outcome is the one to keep)."""
    finished, retried, succeeded, gone = [], [], set(), set()
    for item, result in outcomes:
        key = {"b_id": item.id, "b_attempts": item.attempts}
        if result.outcome == channels.RETRY and item.attempts < item.max_attempts:
            delay = result.retry_after if result.retry_after is not None else backoff(item.kind, item.attempts)
            retried.append({**key, "b_error": result.detail[:300], "b_next": now + timedelta(seconds=delay)})
        elif result.outcome == channels.SENT:
            finished.append({**key, "b_status": "sent", "b_sent": now, "b_response": result.detail[:500],
                             "b_error": None})
            succeeded.add(item.subscription_id)
        else:
            finished.append({**key, "b_status": "failed", "b_sent": None, "b_response": None,
                             "b_error": result.detail[:300]})
            if result.outcome == channels.GONE:
                gone.add(item.subscription_id)
    if owner is not None:
        for row in finished + retried:
            row["b_owner"] = owner
    done, again, succeeded_now, unsubscribed = _record_statements(owner is not None)
    with unit_of_work(engine) as session:
        connection = session.connection()
        if finished:  # sent or given up: the personal data need not stay in the outbox
            connection.execute(done, finished)
        if retried:
            connection.execute(again, retried)
        # What the push service said about the device holds whatever became of the row.
        if succeeded - {None}:
            connection.execute(succeeded_now, {"b_ids": list(succeeded - {None}), "b_now": now})
        if gone - {None}:  # the phone unsubscribed or the app was reinstalled
            connection.execute(unsubscribed, {"b_ids": list(gone - {None})})


@built_once
def _record_statements(by_owner: bool):
    """record()'s statements, built once for each of its two shapes."""
    table = Delivery.__table__
    ours = [table.c.id == bindparam("b_id"), still_sending(table.c.status)]
    if by_owner:
        ours += [table.c.lease_owner == bindparam("b_owner"), table.c.attempts == bindparam("b_attempts")]
    devices = PushSubscription.__table__
    device_ids = devices.c.id.in_(bindparam("b_ids", expanding=True))
    return (
        table.update().where(*ours).values(
            status=bindparam("b_status"), sent_at=bindparam("b_sent"), provider_response=bindparam("b_response"),
            last_error=bindparam("b_error"), lease_owner=None, lease_until=None, attachment=None),
        table.update().where(*ours).values(
            status="pending", last_error=bindparam("b_error"), next_attempt_at=bindparam("b_next"),
            lease_owner=None, lease_until=None),
        devices.update().where(device_ids).values(
            last_success_at=bindparam("b_now", type_=devices.c.last_success_at.type)),
        devices.delete().where(device_ids),
    )


def claimable(engine: Engine, now: datetime) -> bool:
    with Session(engine) as session:
        return session.exec(select(Delivery.id).where(_due(now)).limit(1)).first() is not None


def next_due(engine: Engine, only_channels: list[str] | None = None) -> datetime | None:
    def only(query):
        return query if only_channels is None else query.where(Delivery.channel.in_(only_channels))

    with Session(engine) as session:
        pending = session.exec(only(select(func.min(Delivery.next_attempt_at)).where(Delivery.status == "pending"))).one()
        leased = session.exec(only(select(func.min(Delivery.lease_until)).where(Delivery.status == "sending"))).one()
    moments = [m for m in (pending, leased) if m is not None]
    return min(moments) if moments else None


def acknowledge(session: Session, delivery_id: int, user: User, *, now: datetime) -> Delivery | None:
    """The recipient says they have seen this message (the test notification, for one)."""
    row = session.get(Delivery, delivery_id)
    if row is None or row.recipient_id != user.id:
        return None
    if row.acknowledged_at is None:
        row.acknowledged_at = now
    return row


def rows_for_event(session: Session, event_ref: str) -> list[Delivery]:
    return list(session.exec(select(Delivery).where(Delivery.event_ref == event_ref)).all())


def __getattr__(name: str):
    if name == "DeliveryJob":  # where it used to live
        from app.services.delivery_job import DeliveryJob

        return DeliveryJob
    raise AttributeError(name)
