"""What groups add to a person's record: their attendance marks on the timeline (only the window's:
the newest page's worth at or before where the page starts, one query), and a card with their
groups and anyone they must be kept apart from (two queries)."""
from app.groups import bp
from app.record import Entry, PersonView, Record, on_the_record
from app.services import group_sessions, groups, non_association
from app.services.appointments import to_utc


def attendance_entries(view: PersonView) -> list[Entry]:
    return [Entry("group_attendance", to_utc(meeting.starts_local, view.zone), "groups/_timeline_attendance.html",
                  {"attendance": row, "group": group, "meeting": meeting,
                   "label": group_sessions.MARK_LABELS[row.mark], "tone": group_sessions.MARK_TONES[row.mark],
                   "when": meeting.starts_local.strftime("%a %-d %b %Y, %H:%M")})
            for row, meeting, group in groups.marks_of(view.session, view.person, limit=view.window.fetch,
                                                       before_local=view.window.local_before(view.zone))]


def card(view: PersonView) -> dict | None:
    memberships = groups.memberships(view.session, view.person)
    apart = non_association.keep_apart_with_names(view.session, view.person)
    return {"memberships": memberships, "apart": apart, "labels": groups.STATE_LABELS}


@on_the_record(bp)
def register(record: Record) -> None:
    record.card("groups", "groups/_card.html", card, order=70)
    record.timeline("group_attendance", attendance_entries, order=45)
