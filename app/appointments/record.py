"""What appointments add to a person's record: recorded outcomes (the compliance record)."""
from app.appointments import bp
from app.record import Entry, PersonView, Record, on_the_record
from app.services import appointments


def outcome_entries(view: PersonView) -> list[Entry]:
    return [Entry("appointment", appointments.to_utc(record.original_local, view.zone),
                  "appointments/_timeline_outcome.html",
                  {"record": record, "kind_label": appointments.KIND_LABELS[appointment.kind],
                   "outcome_label": appointments.OUTCOME_LABELS[record.outcome],
                   "tone": "warn" if record.outcome == "did_not_attend" else "ok",
                   "when": record.original_local.strftime("%a %-d %b %Y, %H:%M")})
            for record, appointment in appointments.outcomes_for(view.session, view.person, limit=view.window.fetch,
                                                                  before_local=view.window.local_before(view.zone))]


@on_the_record(bp)
def register(record: Record) -> None:
    record.timeline("appointment", outcome_entries, order=40)
