"""What the plan's templates show: labels and tags computed here, so templates only loop."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session

from app.models import GoalNote, PlanGoal, PlanStep, User
from app.services import plan_due, plans
from app.services.measures import catalogue

# Every status is words plus a colour (the tag's class), never colour alone.
GOAL_TAGS = {"active": "tag--ok", "future": "tag--off", "achieved": "tag--ok", "not_needed": "tag--off"}
STEP_TAGS = {"not_started": "tag--off", "in_progress": "tag--warn", "done": "tag--ok", "cannot_yet": "tag--warn",
             "not_needed": "tag--off"}
REVIEW_LABELS = {"overdue": ("Review overdue", "tag--danger"), "due": ("Review due", "tag--warn")}
DUE_LABELS = {"start": "Due at the start", "review": "Due for the review", "exit": "Due at exit"}


def day(value: date | None) -> str:
    return f"{value:%-d %b %Y}" if value else ""


@dataclass
class StepView:
    step: PlanStep
    owner: str
    due: str
    status: str
    tag: str
    done: bool


@dataclass
class GoalView:
    goal: PlanGoal
    area: str
    related: str
    target: str
    status: str
    tag: str
    outcome: str | None
    steps: list[StepView] = field(default_factory=list)
    notes: list[GoalNote] = field(default_factory=list)


def step_view(step: PlanStep, authors: dict[int, str]) -> StepView:
    owner = plans.STEP_OWNER_LABELS[step.owner]
    if step.owner == "worker" and step.owner_id in authors:
        owner = authors[step.owner_id]
    elif step.owner_name:
        owner = f"{owner}: {step.owner_name}"
    return StepView(step, owner, day(step.due_on), plans.STEP_STATUS_LABELS[step.status], STEP_TAGS[step.status],
                    step.status == "done")


def goal_view(goal: PlanGoal, steps: list[PlanStep], notes: list[GoalNote], authors: dict[int, str]) -> GoalView:
    return GoalView(goal, plans.AREA_LABELS[goal.area],
                    ", ".join(plans.AREA_LABELS[a] for a in goal.related_areas), day(goal.target_on),
                    plans.GOAL_STATUS_LABELS[goal.status], GOAL_TAGS[goal.status],
                    plans.OUTCOME_LABELS.get(goal.outcome) if goal.outcome else None,
                    [step_view(s, authors) for s in steps], notes)


def areas(state: plans.PlanState, authors: dict[int, str]) -> list[tuple[str, list[GoalView]]]:
    """The goals by area of need, in the issue's order of areas."""
    return [(plans.AREA_LABELS[area], [goal_view(g, state.steps.get(g.id, []), state.notes.get(g.id, []), authors)
                                       for g in goals])
            for area, goals in state.by_area()]


def review(state: plans.PlanState, today: date) -> tuple[str, str] | None:
    found = plans.review_state(state.plan, today)
    return REVIEW_LABELS[found] if found else None


def agreement_line(state: plans.PlanState) -> str:
    found = state.agreement
    if found is None:
        return "Not asked yet"
    label = plans.AGREEMENT_LABELS[found.answer]
    current = "" if found.version == state.plan.version else f" (to version {found.version})"
    return f"{label}{current}"


def snapshot_areas(snapshot: dict) -> list[tuple[str, list[dict]]]:
    """A stored version's goals by area, with labels (for reading an old version)."""
    goals = [{**g, "area_label": plans.AREA_LABELS[g["area"]], "status_label": plans.GOAL_STATUS_LABELS[g["status"]],
              "tag": GOAL_TAGS[g["status"]],
              "steps": [{**s, "owner_label": plans.STEP_OWNER_LABELS[s["owner"]] + (f": {s['owner_name']}" if s.get("owner_name") else ""),
                         "status_label": plans.STEP_STATUS_LABELS[s["status"]], "tag": STEP_TAGS[s["status"]]}
                        for s in g["steps"]]}
             for g in snapshot.get("goals", [])]
    return [(plans.AREA_LABELS[area], [g for g in goals if g["area"] == area]) for area in plans.AREAS
            if any(g["area"] == area for g in goals)]


@dataclass
class Reminder:
    person_id: int
    name: str
    what: str
    tag: str
    tag_label: str


def plan_reminders(session: Session, viewer: User, today: date, zone: ZoneInfo) -> dict[str, list[Reminder]]:
    """Today's plan work for a worker: reviews due or overdue, and measures due, for their people."""
    reviews = [Reminder(person.id, person.name, f"Review by {day(plan.review_due_on)}", REVIEW_LABELS[state][1],
                        REVIEW_LABELS[state][0])
               for plan, person, state in plan_due.reviews_due(session, viewer, today, mine_only=True)]
    due = plan_due.measures_due(session, viewer, today, zone)
    known = catalogue(session, viewer.team_id) if due else None
    # Only what can be taken now is a thing to do today.
    measures = [Reminder(d.person.id, d.person.name, known.names.get(d.instrument, d.instrument), "tag--warn",
                         DUE_LABELS[d.why]) for d in due if d.instrument in known.offered]
    return {"reviews": reviews, "measures": measures}


@dataclass
class DueLine:
    key: str
    name: str
    label: str
    offered: bool = True  # False: retired, or its licence lapsed (the goal's measure needs changing)


def due_lines(session: Session, team_id: int, due: list[tuple[str, str]]) -> list[DueLine]:
    """A plan's measures due, named and worded (plan_due.due_for_plan's answer)."""
    if not due:
        return []
    known = catalogue(session, team_id)
    return [DueLine(key, known.names.get(key, key), DUE_LABELS[why], key in known.offered) for key, why in due]
