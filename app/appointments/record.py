"""What appointments add to a person's record: recorded outcomes (the compliance record)."""
from app.appointments import bp
from app.record import Entry, PersonView, Record, on_the_record
from app.services import appointments, orders


def outcome_entries(view: PersonView) -> list[Entry]:
    found = appointments.outcomes_for(view.session, view.person, limit=view.window.fetch,
                                      before_local=view.window.local_before(view.zone))
    # An instruction under an order has the full enforceable outcome ("Acceptable absence — medical"):
    # looked up only for a person under an order (their orders are loaded for the page anyway).
    from app.orders.record import person_orders

    enforceable = orders.outcome_words(view.session, [
        orders.appointment_source(r.appointment_id, r.original_local) for r, _ in found]) if person_orders(view) else {}
    entries = []
    for record, appointment in found:
        words = enforceable.get(orders.appointment_source(record.appointment_id, record.original_local))
        label, tone = words or (appointments.OUTCOME_LABELS[record.outcome],
                                "warn" if record.outcome == "did_not_attend" else "ok")
        entries.append(Entry("appointment", appointments.to_utc(record.original_local, view.zone),
                             "appointments/_timeline_outcome.html",
                             {"record": record, "kind_label": appointments.KIND_LABELS[appointment.kind],
                              "outcome_label": label, "tone": tone, "enforceable": words is not None,
                              "when": record.original_local.strftime("%a %-d %b %Y, %H:%M")}))
    return entries


@on_the_record(bp)
def register(record: Record) -> None:
    record.timeline("appointment", outcome_entries, order=40)
