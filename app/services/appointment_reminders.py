"""Appointment reminders: the worker's push reminders (the evening before and/or minutes before),
the texts to the people being visited, and the worker job that queues both into the delivery outbox.

Worked out each time from the appointments as they stand (services/appointments.py), so a moved or
cancelled occurrence moves or drops its reminders; the outbox's dedupe key sends each one once.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from app.models import Appointment, AppointmentOccurrence, Person, User
from app.services.appointments import KIND_LABELS, MOVE_LIMIT, Occurrence, _live, occurrences, to_utc
from app.services.delivery import Message
from app.services.periodic import Periodic

EVENING_REMINDER = time(18, 0)


def reminder_moments(occurrence: Occurrence, worker: User, zone: ZoneInfo) -> list[tuple[str, datetime]]:
    moments = []
    if worker.remind_evening_before:
        evening = datetime.combine(occurrence.starts_local.date() - timedelta(days=1), EVENING_REMINDER)
        moments.append(("evening", to_utc(evening, zone)))
    if worker.remind_minutes_before:
        moments.append((f"{worker.remind_minutes_before}min",
                        occurrence.starts_at - timedelta(minutes=worker.remind_minutes_before)))
    return moments


def upcoming(session: Session, now: datetime, zone: ZoneInfo) -> list[tuple[Occurrence, User]]:
    """Occurrences starting in the next two days that still need reminding, with their worker.

    The worker loop asks every 30 s, between its safety ticks, so this loads only what can fall in
    those two days: one-offs in them, series running then, and whatever was moved into them."""
    start = now.astimezone(zone).replace(tzinfo=None)
    end = start + timedelta(days=2)
    moved_in = select(AppointmentOccurrence.appointment_id).where(AppointmentOccurrence.starts_local >= start,
                                                                  AppointmentOccurrence.starts_local < end)
    appointments = list(session.exec(_live(select(Appointment)).where(or_(
        and_(Appointment.repeat == "none", Appointment.starts_local >= start, Appointment.starts_local < end),
        and_(Appointment.repeat != "none", Appointment.starts_local < end + MOVE_LIMIT,
             or_(Appointment.repeat_until.is_(None), Appointment.repeat_until >= (start - MOVE_LIMIT).date())),
        Appointment.id.in_(moved_in)))).all())
    workers = {u.id: u for u in session.exec(select(User).where(
        User.id.in_({a.worker_id for a in appointments}))).all()} if appointments else {}
    return [(o, workers[o.appointment.worker_id])
            for o in occurrences(session, appointments, start, end, zone)
            if not o.cancelled and not o.outcome and o.appointment.worker_id in workers
            and workers[o.appointment.worker_id].active]


def due_reminders(session: Session, now: datetime, zone: ZoneInfo, *, late_by: timedelta = timedelta(hours=1),
                  soon: list[tuple[Occurrence, User]] | None = None) -> list[tuple[Message, User]]:
    """Reminders whose moment has come (within `late_by`) for occurrences still to start. Computed
    from the appointments as they are now, so a moved or cancelled appointment moves or drops its
    reminders; the delivery outbox's dedupe key makes each one go once. `soon`: `upcoming(...)`,
    if the caller has it already."""
    due = []
    for occurrence, worker in upcoming(session, now, zone) if soon is None else soon:
        for lead, moment in reminder_moments(occurrence, worker, zone):
            if moment <= now < min(moment + late_by, occurrence.starts_at):
                when = occurrence.starts_local.strftime("%a %-d %b, %H:%M")
                due.append((Message(
                    kind="reminder", title=f"{KIND_LABELS[occurrence.appointment.kind]} at {when}",
                    body="Open Fieldline for the details.",  # no names or places in a push payload
                    event_ref=(f"appointment:{occurrence.appointment.id}:{occurrence.starts_local.isoformat()}"
                               f":{lead}"),
                    url="/", topic=f"appointment-{occurrence.appointment.id}"), worker))
    return due


def due_texts(session: Session, now: datetime, zone: ZoneInfo, *,
              soon: list[tuple[Occurrence, User]] | None = None) -> list[tuple[str, str, str, User]]:
    """Texts to the people being visited, the evening before, when they agreed and have a phone:
    (number, text, event_ref, worker). The text holds a time only: no service name, kind or place,
    since someone else may read the person's phone."""
    soon = upcoming(session, now, zone) if soon is None else soon
    ids = {o.appointment.person_id for o, _ in soon}
    persons = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}
    due = []
    for occurrence, worker in soon:
        person = persons.get(occurrence.appointment.person_id)
        if person is None or not person.sms_reminders or not person.phone or person.status != "open":
            continue
        evening = to_utc(datetime.combine(occurrence.starts_local.date() - timedelta(days=1), EVENING_REMINDER), zone)
        if evening <= now < occurrence.starts_at - timedelta(hours=2):
            text = (f"Reminder: you have an appointment on {occurrence.starts_local.strftime('%a %-d %b at %H:%M')}. "
                    "If you can't make it, please let us know.")
            due.append((person.phone, text,
                        f"appointment:{occurrence.appointment.id}:{occurrence.starts_local.isoformat()}:person",
                        worker))
    return due


class ReminderJob(Periodic):
    """Worker job: queue the reminders that are due into the notification outbox. Every 30 seconds
    is plenty for reminders (the outbox sends them within the second once queued)."""

    def __init__(self, zone: ZoneInfo, every: timedelta = timedelta(seconds=30)):
        super().__init__(every)
        self.zone = zone

    def __call__(self, engine, now: datetime) -> None:
        if not self.due(now):
            return
        from app.db import unit_of_work
        from app.services import delivery, leave

        with unit_of_work(engine) as session:
            soon = upcoming(session, now, self.zone)
            for message, worker in leave.to_stand_ins(session, due_reminders(session, now, self.zone, soon=soon), now):
                delivery.enqueue(session, message, worker, now=now)
            for phone, text, event_ref, worker in due_texts(session, now, self.zone, soon=soon):
                delivery.enqueue_text(session, to=phone, body=text, event_ref=event_ref, on_behalf_of=worker, now=now)
