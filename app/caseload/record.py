"""What the caseload adds to a person's record: their risk history on the timeline."""
from app.caseload import bp
from app.models import RiskChange
from app.record import Entry, PersonView, Record, on_the_record
from app.services import people


def _headline(change: RiskChange) -> str:
    verb = "assessed" if change.old_level is None else "changed"
    return f"Risk {verb}: {people.RISK_LABELS[change.new_level]}"


def risk_entries(view: PersonView) -> list[Entry]:
    return [Entry("risk", r.at, "caseload/_timeline_risk.html",
                  {"change": r, "headline": _headline(r),
                   "was": people.RISK_LABELS[r.old_level] if r.old_level else None})
            for r in people.risk_history(view.session, view.person, before=view.window.before, limit=view.window.fetch)]


@on_the_record(bp)
def register(record: Record) -> None:
    record.timeline("risk", risk_entries, order=20)
