"""The person's own copy (subject access): everything Fieldline holds about one person, as a ZIP of
a readable PDF summary, the photos, the referral and report PDFs, and a JSON file of the same data
for systems. Other people named in the notes are flagged for review and can be redacted first."""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import or_
from sqlmodel import Session, SQLModel, select

from app.models import (Appointment, AppointmentOccurrence, AuditEvent, CaseEvent, Contact, ContactAddendum, ContactVersion,
                        MeasureResponse, Person, Photo, Referral, ReferralEvent, RiskChange, User, Visit)
from app.models.records import SubjectAccessRequest
from app.models.reports import Report, ReportReview, ReportVersion
from app.services import ValidationError
from app.services.referral_documents import Section, as_pdf

REDACTED = "[redacted]"
SEALED = "[withheld: sealed safety notes for staff visiting]"
# Free text that may name other people (third-party information to review before release).
TEXT_FIELDS = ("notes", "actions_agreed", "text", "summary", "outcome_note", "reason", "note", "comments",
               "before_you_visit", "risk_reason", "street_description", "basis_reason",
               # plans and orders (app/plans/report.py, app/orders/report.py)
               "wants", "how_we_know", "status_reason", "what", "owner_name", "why", "comment", "change",
               "warning_signs", "what_helps", "who_to_contact", "signposted", "detail", "named_others", "letter",
               "statement")
NESTED = ("snapshot", "goals", "steps")  # a plan version's snapshot holds the goals and steps as they stood


def _texts(row: dict[str, Any], where: str = ""):
    """Each free-text field of a row, of the plan snapshot nested in it and of a report's sections
    with their sources: (the dict holding it, its key, where it is in words)."""
    for key, value in row.items():
        if key in TEXT_FIELDS and isinstance(value, str):
            yield row, key, where or key
        elif key in NESTED:
            for inner in value if isinstance(value, list) else [value]:
                if isinstance(inner, dict):
                    yield from _texts(inner, where)
        elif key == "sections" and isinstance(value, list):
            for section in value:
                heading = section.get("heading", "")
                if isinstance(section.get("text"), str):
                    yield section, "text", heading
                for source in section.get("sources") or []:
                    if isinstance(source.get("text"), str):
                        yield source, "text", f"{heading}, its sources"


def _row(model: SQLModel, *, exclude: set[str] = frozenset()) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude=set(exclude))


@dataclass
class Export:
    data: dict[str, Any]
    photos: list[Photo]
    pdfs: dict[str, bytes] = field(default_factory=dict)  # file name in the ZIP -> bytes
    # Other features' holdings in the PDF summary: name in `data` -> its heading and line per row.
    summaries: dict[str, Any] = field(default_factory=dict)


def collect(session: Session, person: Person) -> Export:
    """Every record about the person, by kind (a fixed number of queries per kind)."""
    pid = person.id
    contacts = list(session.exec(select(Contact).where(Contact.person_id == pid).order_by(Contact.happened_at)))
    contact_ids = [c.id for c in contacts] or [-1]
    photos = list(session.exec(select(Photo).where(Photo.contact_id.in_(contact_ids)).order_by(Photo.id)))
    referrals = list(session.exec(select(Referral).where(Referral.person_id == pid).order_by(Referral.id)))
    referral_ids = [r.id for r in referrals] or [-1]
    appointments = list(session.exec(select(Appointment).where(Appointment.person_id == pid)))
    appointment_ids = [a.id for a in appointments] or [-1]
    reports = list(session.exec(select(Report).where(Report.person_id == pid).order_by(Report.id)))
    report_ids = [r.id for r in reports] or [-1]
    versions = list(session.exec(select(ReportVersion).where(ReportVersion.report_id.in_(report_ids))))
    # Who viewed or changed their record: the audit of the person and of every record about them.
    about = {"person": [pid], "contact": contact_ids, "referral": referral_ids, "report": report_ids,
             "appointment": appointment_ids, "photo": [p.id for p in photos] or [-1]}
    audit = list(session.exec(select(AuditEvent).where(or_(*(
        (AuditEvent.record_type == kind) & AuditEvent.record_id.in_([str(i) for i in ids])
        for kind, ids in about.items()))).order_by(AuditEvent.at, AuditEvent.id)))
    data = {
        "person": _row(person),
        "risk_history": [_row(r) for r in session.exec(select(RiskChange).where(RiskChange.person_id == pid)
                                                        .order_by(RiskChange.at))],
        "case_events": [_row(e) for e in session.exec(select(CaseEvent).where(CaseEvent.person_id == pid)
                                                      .order_by(CaseEvent.at))],
        "contacts": [_row(c) for c in contacts],
        "contact_versions": [_row(v) for v in session.exec(
            select(ContactVersion).where(ContactVersion.contact_id.in_(contact_ids)))],
        "contact_addenda": [_row(a) for a in session.exec(
            select(ContactAddendum).where(ContactAddendum.contact_id.in_(contact_ids)))],
        "photos": [_row(p) | {"file": f"photos/photo-{p.id}.jpg"} for p in photos],
        # Sealed visit notes are the worker's safety warnings: withheld (staff safety), and said so.
        "visits": [_row(v) | ({"sealed_notes": SEALED} if v.sealed_notes else {})
                   for v in session.exec(select(Visit).where(Visit.person_id == pid))],
        "appointments": [_row(a) for a in appointments],
        "appointment_occurrences": [_row(o) for o in session.exec(
            select(AppointmentOccurrence).where(AppointmentOccurrence.appointment_id.in_(appointment_ids)))],
        "referrals": [_row(r) | {"file": f"referrals/referral-FL-{r.id}.pdf"} for r in referrals],
        "referral_events": [_row(e) for e in session.exec(
            select(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids)))],
        "measures": [_row(m) for m in session.exec(select(MeasureResponse).where(MeasureResponse.person_id == pid))],
        "reports": [_row(r) for r in reports],
        "report_versions": [_row(v, exclude={"pdf"}) | {"file": f"reports/report-FL-R{v.report_id}-v{v.version}.pdf"}
                            for v in versions],
        "report_reviews": [_row(r) for r in session.exec(
            select(ReportReview).where(ReportReview.report_id.in_(report_ids)))],
        "audit": [_row(e, exclude={"ip"}) for e in audit],
    }
    pdfs = {f"reports/report-FL-R{v.report_id}-v{v.version}.pdf": v.pdf for v in versions}
    return Export(data, photos, pdfs)


@dataclass(frozen=True)
class Flag:
    kind: str    # the kind of record (contacts, referrals, ...)
    record_id: Any
    field: str
    name: str    # the other person named


def third_parties(session: Session, export: Export) -> list[Flag]:
    """Other people on the organisation's caseloads and staff named in the person's free text."""
    person = export.data["person"]
    names = {p.name for p in session.exec(select(Person).where(Person.id != person["id"]))}
    names |= {u.name for u in session.exec(select(User))}
    names -= {person["name"], person.get("known_as") or ""}
    patterns = [(name, re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE)) for name in sorted(names) if name]
    flags = []
    for kind, rows in export.data.items():
        for row in rows if isinstance(rows, list) else [rows]:
            for holder, key, where in _texts(row):
                flags += [Flag(kind, row.get("id"), where, name) for name, pattern in patterns
                          if pattern.search(holder[key])]
    # The staff an approved report's PDF names as its author and approver.
    versions = export.data.get("report_versions") or []
    staff = {u.id: u.name for u in session.exec(select(User).where(User.id.in_(
        [v["author_id"] for v in versions] + [v["approved_by_id"] for v in versions] or [-1])))}
    for version in versions:
        flags += [Flag("report_versions", version["id"], role, staff[version[key]])
                  for key, role in (("author_id", "written by"), ("approved_by_id", "approved by"))
                  if version[key] in staff]
    return flags


def _patterns(names: list[str]) -> list[re.Pattern]:
    return [re.compile(rf"\b{re.escape(n)}\b", re.IGNORECASE) for n in names if n.strip()]


def redact_text(text: str, names: list[str]) -> str:
    for pattern in _patterns(names):
        text = pattern.sub(REDACTED, text)
    return text


def redact(export: Export, names: list[str]) -> None:
    """Replace each chosen name in every free-text field, before the files are made."""
    patterns = _patterns(names)
    for rows in export.data.values():
        for row in rows if isinstance(rows, list) else [rows]:
            for holder, key, _ in _texts(row):
                for pattern in patterns:
                    holder[key] = pattern.sub(REDACTED, holder[key])


def redact_document(parts: list[Section], names: list[str]) -> tuple[list[Section], bool]:
    """A document's sections with the chosen names redacted (its header facts too: an author's or
    approver's name), and whether anything changed."""
    redacted = [Section(redact_text(p.heading, names), [(label, redact_text(value, names)) for label, value in p.lines],
                        p.charts) for p in parts]
    return redacted, redacted != parts


def _summary_pdf(export: Export, reference: str) -> bytes:
    data = export.data
    person = data["person"]
    parts = [Section("About this copy", [("Reference", reference), ("Name", person["name"]),
                                         ("What it holds", ", ".join(f"{k.replace('_', ' ')}: {len(v)}"
                                                                    for k, v in data.items() if isinstance(v, list)))])]
    parts.append(Section("Risk history", [(r["at"][:10], f"{r['new_level']}: {r['reason']}")
                                          for r in data["risk_history"]] or [("", "None recorded.")]))
    parts.append(Section("Contacts", [(c["happened_at"][:16].replace("T", " "), f"{c['contact_type']}: {c['notes']}"
                                       + (" (deleted)" if c["deleted_at"] else "")) for c in data["contacts"]]
                         or [("", "None recorded.")]))
    parts.append(Section("Referrals", [(r["created_at"][:10], f"{r['route']}, {r['status']}: {r['summary']}")
                                       for r in data["referrals"]] or [("", "None recorded.")]))
    parts.append(Section("Appointments", [(o["original_local"][:16].replace("T", " "), o["outcome"] or "")
                                          for o in data["appointment_occurrences"]] or [("", "None recorded.")]))
    parts.append(Section("Measures", [(m["taken_at"][:10], f"{m['instrument']}: {m['total']} {m['band'] or ''}")
                                      for m in data["measures"]] or [("", "None recorded.")]))
    for name, summary in export.summaries.items():
        parts.append(Section(summary.heading, [summary.line(row) for row in data.get(name, [])]
                             or [("", "None recorded.")]))
    parts.append(Section("Reports", [(f"version {v['version']}", f"{v['template']}, approved {v['approved_at'][:10]}")
                                     for v in data["report_versions"]] or [("", "None approved.")]))
    parts.append(Section("Who viewed or changed the record", [(e["at"][:16].replace("T", " "), e["action"])
                                                               for e in data["audit"]] or [("", "Nobody.")]))
    return as_pdf(parts, "Your record: a copy of the information we hold", reference=reference,
                  status="Subject access copy",
                  closing="This is a copy of the personal data Fieldline holds about you. The data file record.json "
                          "holds the same information for other systems.")


def as_zip(export: Export, uploads: Path, reference: str, referral_pdfs: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.pdf", _summary_pdf(export, reference))
        archive.writestr("record.json", json.dumps(export.data, indent=1, ensure_ascii=False, default=str))
        for photo in export.photos:
            source = uploads / photo.stored_as
            if source.exists():
                archive.write(source, f"photos/photo-{photo.id}.jpg")
        for name, body in {**export.pdfs, **referral_pdfs}.items():
            archive.writestr(name, body)
    return buffer.getvalue()




# ---- requests: received, due a month later (extendable by two more with a reason), released ----

def due_on(received: date, *, extended: bool) -> date:
    return received + relativedelta(months=3 if extended else 1)


def open_request(session: Session, admin: User, person_id: int | None, received: date | None, *,
                 today: date) -> SubjectAccessRequest:
    errors = {}
    person = session.get(Person, person_id) if person_id else None
    if person is None:
        errors["person_ref"] = "No person has that reference number."
    if received is None:
        errors["received_on"] = "Enter the day the request was received."
    elif received > today:
        errors["received_on"] = "The request cannot be received in the future."
    if errors:
        raise ValidationError(errors)
    found = SubjectAccessRequest(person_id=person.id, received_on=received, due_on=due_on(received, extended=False),
                                 created_by_id=admin.id)
    session.add(found)
    session.flush()
    return found


def extend(session: Session, found: SubjectAccessRequest, reason: str) -> None:
    if found.released_at is not None:
        raise ValidationError({"reason": "This request has been answered."})
    if found.extension_reason:
        raise ValidationError({"reason": "This request has already been extended by two months."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the request needs longer (it is complex, or there are several)."})
    found.extension_reason = reason.strip()[:2000]
    found.due_on = due_on(found.received_on, extended=True)
    session.add(found)


def record_release(session: Session, found: SubjectAccessRequest, admin: User, to: str, detail: str, *,
                   now: datetime) -> None:
    found.released_at, found.released_by_id, found.released_to = now, admin.id, to
    found.release_detail = detail[:500]
    session.add(found)


def open_requests(session: Session) -> list[SubjectAccessRequest]:
    """Requests not yet answered, soonest due first (they stay on the admin's page until done)."""
    return list(session.exec(select(SubjectAccessRequest).where(SubjectAccessRequest.released_at.is_(None))
                             .order_by(SubjectAccessRequest.due_on, SubjectAccessRequest.id)))


def due_label(found: SubjectAccessRequest, today: date) -> tuple[str, str]:
    """What the admin reads about a request's deadline, and its tone (text as well as colour)."""
    days = (found.due_on - today).days
    if days < 0:
        return f"Overdue by {-days} day{'s' if days != -1 else ''}", "danger"
    if days <= 7:
        return f"Due in {days} day{'s' if days != 1 else ''}", "warn"
    return f"Due {found.due_on:%-d %b %Y}", "ok"


def request_reference(found: SubjectAccessRequest) -> str:
    return f"SAR-{found.id}"
