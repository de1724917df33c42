"""What appointments offer reports: appointments kept and missed in the period."""
from collections import Counter

from flask import url_for

from app.report_material import Material, PeriodView, Sentence
from app.services import appointments as service


def outcomes(view: PeriodView) -> list[Sentence]:
    found = sorted(((o, a) for o, a in service.outcomes_for(view.session, view.person)
                    if view.start <= o.original_local.date() <= view.end), key=lambda pair: pair[0].original_local)
    if not found:
        return []
    by_outcome = Counter(o.outcome for o, _ in found)
    parts = ", ".join(f"{by_outcome[k]} {service.OUTCOME_LABELS[k].lower()}" for k in service.OUTCOME_LABELS
                      if by_outcome[k])
    sentences = [Sentence(f"{len(found)} appointment{'s' if len(found) != 1 else ''} with an outcome recorded: "
                          f"{by_outcome['attended']} kept, {by_outcome['did_not_attend']} missed ({parts}).",
                          url_for("caseload.person", person_id=view.person.id), "Appointments")]
    for occurrence, appointment in found:
        if occurrence.outcome == "did_not_attend":
            sentences.append(Sentence(
                f"Missed: {service.KIND_LABELS[appointment.kind].lower()} on "
                f"{occurrence.original_local:%-d %B %Y}" + (f" ({occurrence.outcome_note})." if occurrence.outcome_note
                                                             else "."),
                # The page is one occurrence's: without `on` it is not found.
                url_for("appointments.show", appointment_id=appointment.id,
                        on=occurrence.original_local.isoformat(timespec="minutes")),
                f"Appointment {occurrence.original_local:%-d %b %Y}"))
    return sentences


def register(material: Material) -> None:
    material.topic("appointments", outcomes)
