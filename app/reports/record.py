"""What reports add to a person's record: a card to write one, and each report on the timeline."""
from app.record import Entry, PersonView, Record, on_the_record
from app.reports import bp
from app.services import reports


def _reports(view: PersonView):
    return view.shared("reports", lambda: reports.for_person(view.session, view.person))


def card(view: PersonView) -> dict:
    return {"count": len(_reports(view))}


def report_entries(view: PersonView) -> list[Entry]:
    return [Entry("report", r.created_at, "reports/_timeline_report.html",
                  {"report": r, "label": reports.TEMPLATES[r.template].label,
                   "status_label": reports.STATUS_LABELS[r.status], "tone": reports.STATUS_TONES[r.status]})
            for r in _reports(view)]


@on_the_record(bp)
def register(record: Record) -> None:
    record.card("reports", "reports/_card.html", card, order=60)
    record.timeline("report", report_entries, order=70)
