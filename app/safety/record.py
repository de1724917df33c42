"""What the safety feature adds to a person's record: timed visits to them (never the sealed notes)."""
from sqlalchemy import bindparam
from sqlmodel import select

from app.db import built_once
from app.models import Visit
from app.record import Entry, PersonView, Record, on_the_record
from app.safety import bp
from app.safety.presenters import VISIT_STATE_LABELS


def visits_to(view: PersonView) -> list[Visit]:
    """A page of the timed visits to a person, newest first (never the sealed notes)."""
    person, window = view.person, view.window
    return list(view.session.exec(_visits_page(window.before is not None), params={
        "person_id": person.id, "team_id": person.team_id, "limit": window.fetch, "before": window.before}).all())


@built_once
def _visits_page(paged: bool):
    # `team_id + 0`: still only the team's, but not by the team's index (team, started): without
    # table statistics SQLite walks that newest first, through all the team's visits, to find a
    # person's 21 (7 ms with a team of 500); by the person's index it reads only theirs.
    query = (select(Visit).where(Visit.person_id == bindparam("person_id"), Visit.team_id + 0 == bindparam("team_id"))
             .order_by(Visit.started_at.desc()).limit(bindparam("limit")))
    return query.where(Visit.started_at <= bindparam("before")) if paged else query


def visit_entries(view: PersonView) -> list[Entry]:
    return [Entry("visit", v.started_at, "safety/_timeline_visit.html",
                  {"visit": v, "state_label": VISIT_STATE_LABELS[v.state]})
            for v in visits_to(view)]


@on_the_record(bp)
def register(record: Record) -> None:
    record.timeline("visit", visit_entries, order=30)
