"""What the caseload adds to a person's record: their risk history, and the case's closes and
reopens, on the timeline; a card saying why a closed case closed."""
from app.caseload import bp
from app.models import RiskChange
from app.record import Entry, PersonView, Record, on_the_record
from app.services import case_closure, people


def _headline(change: RiskChange) -> str:
    verb = "assessed" if change.old_level is None else "changed"
    return f"Risk {verb}: {people.RISK_LABELS[change.new_level]}"


def risk_entries(view: PersonView) -> list[Entry]:
    return [Entry("risk", r.at, "caseload/_timeline_risk.html",
                  {"change": r, "headline": _headline(r),
                   "was": people.RISK_LABELS[r.old_level] if r.old_level else None})
            for r in people.risk_history(view.session, view.person, before=view.window.before, limit=view.window.fetch)]


def _case_events(view: PersonView):
    # A case closes and reopens a handful of times at most: all of them, once, for the card and the timeline.
    return view.shared("case-events", lambda: case_closure.events_for(view.session, view.person))


def _event_data(event) -> dict:
    closed = event.kind == "closed"
    return {"event": event, "headline": "Case closed" if closed else "Case reopened",
            "reason": case_closure.REASON_LABELS.get(event.reason) if closed else None,
            "cancelled": event.cancelled_appointments}


def case_entries(view: PersonView) -> list[Entry]:
    return [Entry("case", event.at, "caseload/_timeline_case.html", _event_data(event))
            for event in _case_events(view) if view.window.keeps(event.at)][:view.window.fetch]


def closed_card(view: PersonView) -> dict | None:
    if view.person.status != "closed":
        return None
    latest = next((event for event in _case_events(view) if event.kind == "closed"), None)
    return {"close": _event_data(latest) if latest else None,
            "may_reopen": case_closure.may_close(view.viewer)}


@on_the_record(bp)
def register(record: Record) -> None:
    record.card("case-closed", "caseload/_card_closed.html", closed_card, order=1)
    record.timeline("risk", risk_entries, order=20)
    record.timeline("case", case_entries, order=15)
