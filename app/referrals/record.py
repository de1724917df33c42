"""What referrals add to a person's record: each referral, with its status and MARAC mark."""
from app.record import Entry, PersonView, Record, on_the_record
from app.referrals import bp
from app.services import referrals


def referral_entries(view: PersonView) -> list[Entry]:
    return [Entry("referral", r.created_at, "referrals/_timeline_referral.html",
                  {"referral": r, "route_label": referrals.ROUTE_TEMPLATES[r.route].label,
                   "status_label": referrals.STATUS_LABELS[r.status]})
            for r in referrals.for_person(view.session, view.person, before=view.window.before,
                                           limit=view.window.fetch)]


@on_the_record(bp)
def register(record: Record) -> None:
    record.timeline("referral", referral_entries, order=50)
