"""What the plan adds to a person's record: the Plan card (goals, steps ticked done in one tap, the
review date) and its reviews and closing on the timeline. One plan state serves both (a fixed
number of queries however many goals, steps and notes there are)."""
from app.measures.record import current as measure_responses
from app.plans import bp, presenters
from app.record import Entry, PersonView, Record, on_the_record
from app.services import plan_due, plans


def _state(view: PersonView):
    def load():
        plan = plans.current_plan(view.session, view.person)
        return plans.state_of(view.session, plan, notes=False) if plan else None
    return view.shared("plan", load)


def card(view: PersonView) -> dict:
    state = _state(view)
    if state is None:
        return {"state": None}
    today = view.now.astimezone(view.zone).date()
    # From what the page loads anyway (the plan's goals, the Outcome measures card's responses).
    due = plan_due.due_for_plan(state.plan, state.goals, plan_due.last_taken(measure_responses(view), view.zone), today,
                                view.zone) \
        if view.person.status == "open" else []  # a closed case has nothing due
    return {"state": state, "areas": presenters.areas(state, view.authors), "review": presenters.review(state, today),
            "review_on": presenters.day(state.plan.review_due_on), "agreement": presenters.agreement_line(state),
            "due": presenters.due_lines(view.session, view.person.team_id, due)}


def plan_entries(view: PersonView) -> list[Entry]:
    """The plan's reviews and its closing (one query); contacts that worked on a goal are already on
    the timeline as contacts."""
    state = _state(view)
    if state is None:
        return []
    return [Entry("plan", v.made_at, "plans/_timeline_version.html", {"version": v})
            for v in plans.milestones(view.session, state.plan)]


@on_the_record(bp)
def register(record: Record) -> None:
    record.card("plan", "plans/_card.html", card, order=40)
    record.timeline("plan", plan_entries, order=55)
