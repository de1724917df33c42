"""What the caseload offers reports: risk now, how it changed in the period (with reasons), flags."""
from flask import url_for

from app.report_material import Material, PeriodView, Sentence
from app.services import people


def _risk_link(view: PeriodView) -> str:
    return url_for("caseload.risk", person_id=view.person.id)


def risk(view: PeriodView) -> list[Sentence]:
    person = view.person
    now = f"Risk now: {people.RISK_LABELS[person.risk_level]}" + (f" ({person.risk_reason})." if person.risk_reason
                                                                  else ".")
    sentences = [Sentence(now, _risk_link(view), "Risk review", in_period=False)]
    changes = [c for c in reversed(people.risk_history(view.session, person)) if view.holds(c.at)]
    if not changes:
        sentences.append(Sentence(f"The risk level did not change between {view.start:%-d %B %Y} and "
                                  f"{view.end:%-d %B %Y}.", _risk_link(view), "Risk history", in_period=False))
    for change in changes:
        was = f" from {people.RISK_LABELS[change.old_level]}" if change.old_level else ""
        sentences.append(Sentence(
            f"{change.at.astimezone(view.zone):%-d %B %Y}: risk {'changed' if change.old_level else 'assessed'}"
            f"{was} to {people.RISK_LABELS[change.new_level]}: {change.reason}", _risk_link(view),
            f"Risk change {change.at.astimezone(view.zone):%-d %b %Y}"))
    return sentences


def flags(view: PeriodView) -> list[Sentence]:
    labels = people.flag_labels(view.person)
    if not labels:
        return []
    return [Sentence("Flags on the record: " + ", ".join(labels) + ".", _risk_link(view), "Flags", in_period=False)]


def register(material: Material) -> None:
    material.topic("risk", risk)
    material.topic("flags", flags)
