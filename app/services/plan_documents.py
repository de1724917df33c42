"""The end-of-intervention summary: each goal's outcome, the distance travelled on each measure,
and the relapse-prevention plan, as a PDF made by the referrals' document builder (same header,
footer and file naming: a reference, never a name)."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.instruments import Instrument, change
from app.models import MeasureResponse, Person, Plan
from app.services import plan_due, plans
from app.services.measures import scores
from app.services.referral_documents import Section, as_pdf


def reference(plan: Plan) -> str:
    return f"plan-FL-{plan.id}"


@dataclass(frozen=True)
class Distance:
    """One instrument's first and latest score over the plan, and whether the change is reliable."""
    name: str
    first: float
    latest: float
    first_on: str
    latest_on: str
    verdict: str


def distances(plan: Plan, responses: list[MeasureResponse], instruments: dict[str, Instrument],
              zone: ZoneInfo) -> list[Distance]:
    """The first score in the plan's window is its start score and the last its exit score (a
    score taken in the month after closing counts: plan_due.window)."""
    since, until = plan_due.window(plan)
    found = []
    for key, instrument in instruments.items():
        scored = [r for r in scores(responses, key) if r.taken_at >= since and (until is None or r.taken_at <= until)]
        if len(scored) < 2:
            continue
        first, latest = scored[0], scored[-1]
        found.append(Distance(instrument.name, first.total, latest.total,
                              f"{first.taken_at.astimezone(zone):%-d %b %Y}", f"{latest.taken_at.astimezone(zone):%-d %b %Y}",
                              change(instrument, first.total, latest.total)))
    return found


def sections(person: Person, state: plans.PlanState, responses: list[MeasureResponse],
             instruments: dict[str, Instrument], authors: dict[int, str], zone: ZoneInfo) -> list[Section]:
    plan = state.plan
    started = plan.created_at.astimezone(zone)
    closed = plan.closed_at.astimezone(zone) if plan.closed_at else None
    parts = [Section("The intervention", [
        ("Person", person.name), ("Plan started", f"{started:%-d %B %Y}"),
        ("Plan closed", f"{closed:%-d %B %Y}" if closed else "open"),
        ("Closed by", authors.get(plan.closed_by_id, "")), ("Versions of the plan", str(plan.version))])]
    goal_lines = []
    for goal in state.goals:
        outcome = plans.OUTCOME_LABELS.get(goal.outcome, plans.GOAL_STATUS_LABELS[goal.status])
        goal_lines.append((f"{plans.AREA_LABELS[goal.area]}: {goal.wants}",
                           outcome + (f" - {goal.outcome_note}" if goal.outcome_note else "")))
    parts.append(Section("Goals and what came of them", goal_lines or [("", "No goals were set.")]))
    moved = distances(plan, responses, instruments, zone)
    parts.append(Section("Distance travelled", [
        (d.name, f"{d.first:g} ({d.first_on}) to {d.latest:g} ({d.latest_on}): {d.verdict}") for d in moved]
        or [("", "No measure was taken twice during the plan.")]))
    parts.append(Section("Relapse-prevention plan", [
        ("Warning signs", plan.warning_signs or "not recorded"), ("What helps", plan.what_helps or "not recorded"),
        ("Who to contact", plan.who_to_contact or "not recorded"),
        ("Services signposted", plan.signposted or "none")]))
    return parts


def summary_pdf(person: Person, state: plans.PlanState, responses: list[MeasureResponse],
                instruments: dict[str, Instrument], authors: dict[int, str], zone: ZoneInfo) -> bytes:
    return as_pdf(sections(person, state, responses, instruments, authors, zone), "End-of-intervention summary",
                  reference=reference(state.plan), status="Closed" if state.plan.status == "closed" else "Open")
