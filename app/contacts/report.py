"""What contacts offer reports: how many contacts of each kind in the period, and extracts of
them (the latest and every safeguarding concern to start with; the worker then picks from a list of
every contact in the period which are quoted)."""
from collections import Counter

from flask import url_for
from sqlmodel import select

from app.models import Contact
from app.report_material import Material, PeriodView, Sentence
from app.services import contacts as service

EXTRACT_CHARS = 240
EXTRACTS = 10  # the most recent; safeguarding concerns are always offered


def in_period(view: PeriodView) -> list[Contact]:
    """The person's contacts in the period, oldest first (one query), deleted ones left out."""
    return view.shared("contacts", lambda: list(view.session.exec(
        select(Contact).where(Contact.person_id == view.person.id, Contact.team_id == view.person.team_id,
                              Contact.deleted_at.is_(None), Contact.happened_at >= view.starts_at,
                              Contact.happened_at < view.ends_at)
        .order_by(Contact.happened_at, Contact.id)).all()))


def counts(view: PeriodView) -> list[Sentence]:
    found = in_period(view)
    if not found:
        return []
    by_type = Counter(c.contact_type for c in found)
    attempted = by_type.pop("attempted", 0)
    met = len(found) - attempted
    parts = ", ".join(f"{n} {service.TYPE_LABELS[t].lower()}" for t, n in sorted(by_type.items()))
    text = (f"{len(found)} contact{'s' if len(found) != 1 else ''} between {view.start:%-d %B %Y} and "
            f"{view.end:%-d %B %Y}: {met} with the person" + (f" ({parts})" if parts else "")
            + f", {attempted} attempted without reaching them.")
    sentences = [Sentence(text, url_for("caseload.person", person_id=view.person.id), "Contacts")]
    concerns = sum(1 for c in found if c.safeguarding_concern)
    if concerns:
        sentences.append(Sentence(f"{concerns} contact{'s' if concerns != 1 else ''} raised a safeguarding concern.",
                                  url_for("caseload.person", person_id=view.person.id), "Contacts"))
    return sentences


def _extract(contact: Contact, view: PeriodView) -> Sentence:
    notes = " ".join((contact.notes or "").split())
    if len(notes) > EXTRACT_CHARS:
        notes = notes[:EXTRACT_CHARS].rsplit(" ", 1)[0] + "…"
    when = contact.happened_at.astimezone(view.zone)
    return Sentence(f"{when:%-d %B %Y} ({service.TYPE_LABELS[contact.contact_type].lower()}): {notes}",
                    url_for("contacts.show", contact_id=contact.id), f"Contact {when:%-d %b %Y}",
                    key=f"contact-{contact.id}")


def extracts(view: PeriodView) -> list[Sentence]:
    found = in_period(view)
    chosen = {c.id for c in found[-EXTRACTS:]} | {c.id for c in found if c.safeguarding_concern}
    return [_extract(c, view) for c in found if c.id in chosen and c.notes]


def every_extract(view: PeriodView) -> list[Sentence]:
    """Every contact in the period with notes, for the worker to choose which are quoted."""
    return [_extract(c, view) for c in in_period(view) if c.notes]


def register(material: Material) -> None:
    material.topic("contacts", counts)
    material.topic("contact_extracts", extracts)
    material.choosable("contact_extracts", every_extract)
