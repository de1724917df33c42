"""The breach evidence pack: the order, every instruction, the attendance timeline, absences and
evidence, warnings with their letters, the contact notes the officer ticked, the officer's
statement and the supervisor's sign-off, as one PDF (the referrals' document builder). Each build
is a new version; a signed version cannot change (the database refuses it)."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import Contact, EvidencePack, Order, Person, User
from app.services import ValidationError
from app.services import appointments, compliance, orders
from app.services import compliance_rules as rules
from app.services.access import NotFound
from app.services.referral_documents import Section, as_pdf


def reference(order: Order) -> str:
    return f"ORD-{order.id:05d}"


def file_name(pack: EvidencePack, order: Order) -> str:
    """A reference and version, never a name."""
    return f"breach-pack-{reference(order)}-v{pack.version}.pdf"


def packs_for(session: Session, order: Order) -> list[EvidencePack]:
    return list(session.exec(select(EvidencePack).where(EvidencePack.order_id == order.id)
                             .order_by(EvidencePack.version.desc())).all())


def get_pack(session: Session, viewer: User, pack_id: int) -> EvidencePack:
    pack = session.get(EvidencePack, pack_id)
    if pack is None or viewer.team_id is None or pack.team_id != viewer.team_id:
        raise NotFound
    return pack


def contact_choices(session: Session, person: Person, limit: int = 50) -> list[Contact]:
    """The person's latest contact notes, for the officer to tick which go in the pack."""
    return list(session.exec(select(Contact).where(Contact.person_id == person.id, Contact.team_id == person.team_id,
                                                   Contact.deleted_at.is_(None))
                             .order_by(Contact.happened_at.desc()).limit(limit)).all())


def _sections(session: Session, order: Order, person: Person, statement: str, contact_ids: list[int],
              signed: tuple[User, datetime] | None, today: date, zone: ZoneInfo) -> list[Section]:
    names = {u.id: u.name for u in session.exec(select(User).where(User.team_id == order.team_id)).all()}
    requirements = orders.requirements_for(session, [order.id])[order.id]
    events = compliance.events_for(session, [order.id])[order.id]
    policy = compliance.policy_for(session, order.team_id, rules.family_of(order.kind))
    labels = {r.id: orders.REQUIREMENT_LABELS[r.kind] for r in requirements}
    parts = [Section("The order", [
        ("Kind", orders.ORDER_LABELS[order.kind]), ("Made by", order.made_by),
        ("Starts", f"{order.starts_on:%-d %B %Y}"), ("Ends", f"{order.ends_on:%-d %B %Y}"),
        ("Expected end", f"{order.expected_end_on:%-d %B %Y}" if order.expected_end_on else "as ordered"),
        ("Responsible officer", names.get(order.responsible_officer_id, "not recorded")),
        ("Person", f"{person.name}" + (f", born {person.date_of_birth:%-d %B %Y}" if person.date_of_birth else "")),
        ("Policy", f"{policy.warnings_before_breach} warning(s) before a decision, warnings count for "
                   f"{policy.window_months} months, decisions within {policy.decision_working_days} working days")])]
    parts.append(Section("Requirements", [(labels[r.id], (r.detail or "") + (f" ({r.target} ordered)" if r.target else ""))
                                          for r in requirements] or [("", "None recorded.")]))
    # Every occurrence an instruction put in the order's time, up to today (a series is many).
    links = orders.links_for(session, [order.id])
    by_appointment = {a.id: link for link, a in links}
    until = min(today, order.expected_end_on or order.ends_on) + timedelta(days=1)
    instructions = []
    for occurrence in appointments.occurrences(session, [a for _, a in links], datetime.combine(order.starts_on, time.min),
                                               datetime.combine(until, time.min), zone):
        link = by_appointment[occurrence.appointment.id]
        instructions.append((f"{occurrence.starts_local:%a %-d %b %Y %H:%M}",
                             f"{appointments.KIND_LABELS[occurrence.appointment.kind]}, "
                             f"{labels.get(link.requirement_id, 'the order')}"
                             + (" (cancelled)" if occurrence.cancelled else "")
                             + f"; told {orders.TOLD_HOW[link.told_how].lower()} on {link.told_on:%-d %B %Y}"))
    parts.append(Section(f"Instructions given ({len(instructions)})", instructions or [("", "None.")]))
    timeline = []
    for e in rules.effective_outcomes(events):
        when = f"{e.occurred_local:%a %-d %b %Y %H:%M}" if e.occurred_local else f"{e.occurred_on:%-d %b %Y}"
        line = orders.OUTCOME_LABELS[e.outcome]
        if e.absence_reason:
            line += f" - {orders.ABSENCE_LABELS[e.absence_reason]}"
        line += _evidence(events, e)
        if e.reason:
            line += f" ({e.reason})"
        if e.kind == "correction":
            line += " [corrected]"
        timeline.append((when, line + f" - recorded by {names.get(e.recorded_by_id, 'unknown')}"))
    parts.append(Section(f"Attendance ({len(timeline)} outcomes)", timeline or [("", "None recorded.")]))
    absences = [(f"{e.occurred_on:%-d %b %Y}", orders.OUTCOME_LABELS[e.outcome]
                 + (f" - {orders.ABSENCE_LABELS[e.absence_reason]}" if e.absence_reason else "")
                 + (f" ({e.reason})" if e.reason else "") + _evidence(events, e))
                for e in rules.effective_outcomes(events) if e.outcome in ("acceptable_absence", "unacceptable_absence")]
    parts.append(Section(f"Absences, reasons and evidence ({len(absences)})", absences or [("", "None.")]))
    for warning in rules.warnings_given(events):
        parts.append(Section(f"Warning given {warning.occurred_on:%-d %B %Y} by {names.get(warning.recorded_by_id, '')}",
                             [("", warning.letter or warning.reason or "Further warning (decision).")]))
    decisions = [e for e in events if e.kind == "decision"]
    if decisions:
        parts.append(Section("Decisions", [(f"{d.occurred_on:%-d %b %Y}", compliance.decision_labels(
            rules.family_of(order.kind))[d.decision] + (f": {d.reason}" if d.reason else "")
            + f" - {names.get(d.recorded_by_id, '')}") for d in decisions]))
    if contact_ids:
        contacts = session.exec(select(Contact).where(Contact.id.in_(contact_ids), Contact.person_id == person.id,
                                                      Contact.deleted_at.is_(None))
                                .order_by(Contact.happened_at)).all()
        parts.append(Section("Contact notes", [(f"{c.happened_at.astimezone(zone):%-d %b %Y %H:%M}", c.notes)
                                               for c in contacts]))
    parts.append(Section("Officer's statement", [("", statement)]))
    parts.append(Section("Supervisor's sign-off", [("Signed", f"{signed[0].name}, {signed[1].astimezone(zone):%-d %B %Y %H:%M}")]
                         if signed else [("", "Not signed yet: a draft.")]))
    return parts


def _evidence(events, absence) -> str:
    """An acceptable absence's evidence: when it was due, each chase, and its arrival (or not)."""
    if absence.outcome != "acceptable_absence":
        return ""
    lines = compliance.evidence_lines(events, absence)
    due = f"; evidence due {absence.evidence_due_on:%-d %b %Y}" if absence.evidence_due_on else ""
    received = any(line.startswith("received") for line in lines)
    return due + "".join(f"; evidence {line}" for line in lines) + ("" if received or not due else ", not received")


def _render(session: Session, order: Order, pack: EvidencePack, signed, now: datetime, zone: ZoneInfo) -> bytes:
    person = session.get(Person, order.person_id)
    parts = _sections(session, order, person, pack.statement, pack.contact_ids, signed, orders.local_today(now, zone),
                      zone)
    return as_pdf(parts, "Breach evidence pack", reference=f"{reference(order)} v{pack.version}",
                  status="signed" if signed else "draft")


def build(session: Session, order: Order, by: User, *, statement: str | None, contact_ids: list[int], now: datetime,
          zone: ZoneInfo) -> EvidencePack:
    """A new draft version, from the record as it stands now."""
    statement = (statement or "").strip()
    if not statement:
        raise ValidationError({"statement": "Write the officer's statement."})
    version = (session.exec(select(func.max(EvidencePack.version)).where(EvidencePack.order_id == order.id)).one()
               or 0) + 1
    pack = EvidencePack(team_id=order.team_id, order_id=order.id, version=version, statement=statement,
                        contact_ids=sorted(set(contact_ids)), pdf=b"", sha256="", made_by_id=by.id, made_at=now)
    pack.pdf = _render(session, order, pack, None, now, zone)
    pack.sha256 = hashlib.sha256(pack.pdf).hexdigest()
    session.add(pack)
    session.flush()
    return pack


def sign(session: Session, pack: EvidencePack, supervisor: User, *, now: datetime, zone: ZoneInfo) -> EvidencePack:
    """The supervisor's sign-off, once: the PDF is rebuilt with it, then the row is sealed."""
    if supervisor.role != "supervisor":
        raise NotFound
    if pack.signed_at is not None:
        raise ValidationError({"": "This version is signed already: build a new version to correct it."})
    order = session.get(Order, pack.order_id)
    pack.pdf = _render(session, order, pack, (supervisor, now), now, zone)
    pack.sha256 = hashlib.sha256(pack.pdf).hexdigest()
    pack.signed_by_id, pack.signed_at = supervisor.id, now
    session.flush()
    return pack
