"""What the safety feature adds to a person's record: timed visits to them (never the sealed notes)."""
from app.record import Entry, PersonView, Record, on_the_record
from app.safety import bp
from app.safety.presenters import VISIT_STATE_LABELS
from app.services import safety


def visit_entries(view: PersonView) -> list[Entry]:
    return [Entry("visit", v.started_at, "safety/_timeline_visit.html",
                  {"visit": v, "state_label": VISIT_STATE_LABELS[v.state]})
            for v in safety.visits_to(view.session, view.person)]


@on_the_record(bp)
def register(record: Record) -> None:
    record.timeline("visit", visit_entries, order=30)
