"""A report as a document: the header facts (reference, version, period, author, approver, date)
and its sections, as a PDF by the same builder as referrals."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.services.referral_documents import Section, as_pdf
from app.services.reports import TEMPLATES

CLOSING = ("Confidential: special-category personal data. Drafted from the Fieldline record and signed off "
           "by the supervisor named above.")


def _period(start: date, end: date) -> str:
    return f"{start:%-d %B %Y} to {end:%-d %B %Y}"


def parts(*, reference: str, version: int, template: str, audience: str, start: date, end: date, person_name: str,
          author: str, approver: str | None, approved_at: datetime | None, sections: list[dict],
          zone: ZoneInfo) -> list[Section]:
    facts = [("Reference", reference), ("Version", str(version)), ("About", person_name), ("For", audience),
             ("Period", _period(start, end)), ("Written by", author),
             ("Approved by", approver or "not yet approved"),
             ("Date", f"{approved_at.astimezone(zone):%-d %B %Y}" if approved_at else "draft, not yet approved")]
    return [Section(TEMPLATES[template].label, facts)] + [
        Section(s["heading"], [("", s["text"].strip() or "Nothing written.")],
                charts=[c["svg"] for c in s.get("charts") or []]) for s in sections]


def pdf(document: list[Section], *, template: str, reference: str, status: str) -> bytes:
    return as_pdf(document, TEMPLATES[template].label, reference=reference, status=status, closing=CLOSING)
