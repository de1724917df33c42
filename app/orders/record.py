"""What orders add to a person's record: the Orders card (each order's compliance panel, in words
and colour) and warnings and decisions on the timeline (one load shared by both)."""
from app.orders import bp
from app.record import Entry, PersonView, Record, on_the_record
from app.services import compliance


def _panels(view: PersonView):
    return view.shared("orders", lambda: compliance.panels(view.session, view.person, view.now, view.zone))


def card(view: PersonView) -> dict:
    return {"panels": _panels(view), "prompt_label": compliance.prompt_label}


def compliance_entries(view: PersonView) -> list[Entry]:
    entries = []
    for panel in _panels(view):
        labels = compliance.decision_labels(panel.family)
        for event in panel.events:
            if event.kind == "warning" or event.kind == "decision":
                entries.append(Entry("compliance", event.recorded_at, "orders/_timeline_compliance.html",
                                     {"event": event, "order": panel.order, "label": (
                                         "Warning given" if event.kind == "warning" else
                                         f"Decision: {labels[event.decision]}"),
                                      "tone": "danger" if event.decision == "breach" else "warn"}))
    return entries


@on_the_record(bp)
def register(record: Record) -> None:
    record.card("orders", "orders/_card.html", card, order=15)
    record.timeline("compliance", compliance_entries, order=45)
