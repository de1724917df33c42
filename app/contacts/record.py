"""What contacts add to a person's record: their contacts (with photos) on the timeline."""
from app.contacts import bp
from app.record import Entry, PersonView, Record, on_the_record
from app.services import contacts


def contact_entries(view: PersonView) -> list[Entry]:
    found = contacts.contacts_for(view.session, view.person, before=view.window.before, limit=view.window.fetch)
    photos = contacts.photos_for(view.session, [c.id for c in found])  # one query for them all
    return [Entry("contact", c.happened_at, "contacts/_timeline_entry.html",
                  {"contact": c, "type_label": contacts.TYPE_LABELS[c.contact_type], "photos": photos.get(c.id, [])})
            for c in found]


@on_the_record(bp)
def register(record: Record) -> None:
    record.timeline("contact", contact_entries, order=10)
