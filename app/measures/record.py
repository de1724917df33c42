"""What measures add to a person's record: a card with each instrument's chart and sentence, and
each measure taken or declined on the timeline (one query for both)."""
from app.measures import bp, presenters
from app.measures.charts import sections
from app.record import Entry, PersonView, Record, on_the_record
from app.services import measures


def current(view: PersonView):
    """The person's current responses (shared with the Plan card, which says which measures are due)."""
    return view.shared("measures", lambda: measures.responses_for(view.session, view.person, answers=False))


def _instruments(view: PersonView):
    return view.shared("measure-instruments",
                       lambda: measures.instruments_for(view.session, view.person.team_id, current(view)))


def card(view: PersonView) -> dict:
    responses = current(view)
    return {"sections": sections(responses, responses, view.zone, _instruments(view), rows=3)}


def measure_entries(view: PersonView) -> list[Entry]:
    entries = []
    instruments = _instruments(view)
    # The card charts them all, so they are loaded anyway: the page is cut here.
    shown = [response for response in current(view) if view.window.keeps(response.taken_at)]
    for response in shown[-view.window.fetch:]:
        instrument = instruments[response.instrument]
        entries.append(Entry("measure", response.taken_at, "measures/_timeline_measure.html",
                             {"response": response, "name": instrument.name,
                              "row": presenters.row(instrument, response, view.zone)}))
    return entries


@on_the_record(bp)
def register(record: Record) -> None:
    record.card("measures", "measures/_card.html", card, order=50)
    record.timeline("measure", measure_entries, order=60)
