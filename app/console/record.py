"""What allocation adds to a person's record: their key worker's leave and cover, and the history
of allocations with each handover note (one query)."""
from app.console import bp
from app.record import PersonView, Record, on_the_record
from app.services import workload


def card(view: PersonView) -> dict | None:
    history, away = workload.history_and_cover(view.session, view.person, view.now)
    names = view.authors
    can_allocate = view.viewer.role == "supervisor"
    if not (history or away or can_allocate):
        return None
    return {
        "away": away and {"who": names.get(away.user_id, "?"), "until": f"{away.ends_on:%a %-d %b}",
                          "cover": names.get(away.cover_id, "?")},
        "history": [{"when": a.at.astimezone(view.zone).strftime("%-d %b %Y"), "to": names.get(a.worker_id, "?"),
                     "from": names.get(a.previous_worker_id) if a.previous_worker_id else None,
                     "by": names.get(a.by_id, "?"), "note": a.note} for a in history],
        "can_allocate": can_allocate,
    }


@on_the_record(bp)
def register(record: Record) -> None:
    record.card("allocation", "console/_card.html", card, order=15)
