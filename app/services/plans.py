"""A person's plan: its goals and steps, and its versions (agreement, review and exit: plan_reviews.py).

Every change writes a new `PlanVersion` holding a snapshot of the whole plan, so any version can be
read as it stood and two versions compared (`plan_history.differences`). Versions, agreements and goal notes are
append-only. Each rule takes `now`; dates are the organisation's local dates (`today`).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.db import built_once
from app.models import GoalNote, Person, Plan, PlanAgreement, PlanGoal, PlanStep, PlanVersion, User
from app.models.plans import AREAS, GOAL_STATUSES, STEP_OWNERS, STEP_STATUSES
from app.services import ValidationError
from app.services.access import NotFound

AREA_LABELS = {
    "accommodation": "Accommodation",
    "work": "Education, training and work",
    "finance": "Finance, benefits and ID",
    "family": "Family and relationships",
    "drugs_alcohol": "Drugs and alcohol",
    "health": "Physical and mental health",
    "thinking": "Thinking and behaviour",
    "safety": "Safety (theirs, and others')",
}
GOAL_STATUS_LABELS = {"active": "Active", "future": "Future", "achieved": "Achieved", "not_needed": "No longer needed"}
STEP_OWNER_LABELS = {"person": "The person", "worker": "Me", "service": "Another service", "other": "Someone else"}
STEP_STATUS_LABELS = {"not_started": "Not started", "in_progress": "In progress", "done": "Done",
                      "cannot_yet": "Can't be done yet", "not_needed": "No longer needed"}
AGREEMENT_LABELS = {"agrees": "Agrees", "does_not_agree": "Does not agree", "could_not_answer": "Could not answer"}
OUTCOME_LABELS = {"achieved": "Achieved", "partly": "Partly achieved", "not_achieved": "Not achieved"}
TARGETS = {"3": 3, "6": 6, "12": 12}  # months from today; "date" means a typed date
# A review falls due 3 months after the plan is made or last reviewed; sooner when the risk is high.
REVIEW_MONTHS = {"low": 3, "medium": 3}
REVIEW_WEEKS = {"high": 6, "very_high": 4}
DUE_SOON = timedelta(days=14)  # a review this close is shown as due (and its measures fall due)
TEXT_LIMIT = 2000


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review(risk_level: str, today: date) -> date:
    if risk_level in REVIEW_WEEKS:
        return today + timedelta(weeks=REVIEW_WEEKS[risk_level])
    return add_months(today, REVIEW_MONTHS.get(risk_level, 3))


def review_state(plan: Plan, today: date) -> str | None:
    """"overdue", "due" (within two weeks) or None; a closed plan has no review to do."""
    if plan.status != "open":
        return None
    if plan.review_due_on < today:
        return "overdue"
    if plan.review_due_on <= today + DUE_SOON:
        return "due"
    return None


# ---- reading ----

@dataclass
class PlanState:
    """A plan with its goals (grouped by area in AREAS order), steps, notes and latest agreement."""
    plan: Plan
    goals: list[PlanGoal]
    steps: dict[int, list[PlanStep]]
    notes: dict[int, list[GoalNote]]
    agreement: PlanAgreement | None

    def by_area(self) -> list[tuple[str, list[PlanGoal]]]:
        return [(area, [g for g in self.goals if g.area == area]) for area in AREAS
                if any(g.area == area for g in self.goals)]


def current_plan(session: Session, person: Person) -> Plan | None:
    """The person's open plan, else the latest closed one."""
    return session.exec(_current_plan(), params={"person_id": person.id, "team_id": person.team_id}).first()


@built_once
def _current_plan():
    return (select(Plan).where(Plan.person_id == bindparam("person_id"), Plan.team_id == bindparam("team_id"))
            .order_by((Plan.status == "open").desc(), Plan.id.desc()).limit(1))


def state_of(session: Session, plan: Plan, *, notes: bool = True) -> PlanState:
    """Four queries however long the plan is (three without the goals' progress notes, which the
    person's Plan card does not show)."""
    goals_q, steps_q, notes_q, agreement_q = _plan_parts()
    of_plan = {"plan_id": plan.id}
    goals = list(session.exec(goals_q, params=of_plan).all())
    steps: dict[int, list[PlanStep]] = {g.id: [] for g in goals}
    for step in session.exec(steps_q, params=of_plan).all():
        steps.setdefault(step.goal_id, []).append(step)
    by_goal: dict[int, list[GoalNote]] = {g.id: [] for g in goals}
    if notes:
        for note in session.exec(notes_q, params=of_plan).all():
            by_goal.setdefault(note.goal_id, []).append(note)
    agreement = session.exec(agreement_q, params=of_plan).first()
    return PlanState(plan, goals, steps, by_goal, agreement)


@built_once
def _plan_parts():
    plan_id = bindparam("plan_id")
    return (select(PlanGoal).where(PlanGoal.plan_id == plan_id).order_by(PlanGoal.id),
            select(PlanStep).where(PlanStep.plan_id == plan_id).order_by(PlanStep.id),
            select(GoalNote).where(GoalNote.plan_id == plan_id).order_by(GoalNote.at, GoalNote.id),
            select(PlanAgreement).where(PlanAgreement.plan_id == plan_id).order_by(PlanAgreement.id.desc()).limit(1))


def _in_team(row, viewer: User):
    if row is None or viewer.team_id is None or row.team_id != viewer.team_id:
        raise NotFound
    return row


def get_plan(session: Session, viewer: User, plan_id: int) -> Plan:
    return _in_team(session.get(Plan, plan_id), viewer)


def get_goal(session: Session, viewer: User, goal_id: int) -> PlanGoal:
    return _in_team(session.get(PlanGoal, goal_id), viewer)


def get_step(session: Session, viewer: User, step_id: int) -> PlanStep:
    return _in_team(session.get(PlanStep, step_id), viewer)


def versions(session: Session, plan: Plan) -> list[PlanVersion]:
    return list(session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan.id)
                             .order_by(PlanVersion.number.desc())).all())


def milestones(session: Session, plan: Plan) -> list:
    """The versions worth a line on the person's timeline: the plan's start, reviews and closing,
    as rows of what a line shows (number, kind, who, when; not the whole plan as it stood)."""
    return list(session.exec(_milestones(), params={"plan_id": plan.id}).all())


@built_once
def _milestones():
    return (select(PlanVersion.number, PlanVersion.kind, PlanVersion.made_by_id, PlanVersion.made_at)
            .where(PlanVersion.plan_id == bindparam("plan_id"))
            .where((PlanVersion.kind != "change") | (PlanVersion.number == 1)))


def get_version(session: Session, plan: Plan, number: int) -> PlanVersion:
    if not 1 <= number <= plan.version:  # (and a number too big for the column never reaches the database)
        raise NotFound
    found = session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan.id,
                                                   PlanVersion.number == number)).first()
    if found is None:
        raise NotFound
    return found


def agreements(session: Session, plan: Plan) -> list[PlanAgreement]:
    return list(session.exec(select(PlanAgreement).where(PlanAgreement.plan_id == plan.id)
                             .order_by(PlanAgreement.id.desc())).all())


# ---- versions ----

def snapshot(state: PlanState) -> dict:
    """The whole plan as plain data (what a version keeps)."""
    return {
        "review_due_on": state.plan.review_due_on.isoformat(),
        "status": state.plan.status,
        "goals": [{
            "id": g.id, "area": g.area, "wants": g.wants, "how_we_know": g.how_we_know, "measure": g.measure,
            "target_on": g.target_on.isoformat(), "related_areas": list(g.related_areas), "status": g.status,
            "status_reason": g.status_reason, "outcome": g.outcome, "outcome_note": g.outcome_note,
            "steps": [{"id": s.id, "what": s.what, "owner": s.owner, "owner_name": s.owner_name,
                       "due_on": s.due_on.isoformat() if s.due_on else None, "status": s.status}
                      for s in state.steps.get(g.id, [])],
        } for g in state.goals],
    }


def _new_version(session: Session, viewer: User, plan: Plan, kind: str, change: str, now: datetime) -> PlanVersion:
    session.flush()
    plan.version += 1
    version = PlanVersion(plan_id=plan.id, team_id=plan.team_id, number=plan.version, kind=kind, change=change,
                          snapshot=snapshot(state_of(session, plan)), made_by_id=viewer.id, made_at=now)
    session.add(version)
    session.flush()
    return version


# ---- changing ----

def _text(value: str | None) -> str:
    return (value or "").strip()


def _limit(errors: dict, name: str, value: str) -> None:
    if len(value) > TEXT_LIMIT:
        errors[name] = f"At most {TEXT_LIMIT} characters."


@dataclass(frozen=True)
class GoalDetails:
    area: str
    wants: str
    how_we_know: str
    target: str  # "3", "6", "12" (months) or "date"
    target_on: date | None = None  # when target is "date"
    related_areas: list[str] = field(default_factory=list)
    measure: str | None = None
    status: str = "active"
    status_reason: str | None = None


def _checked_goal(details: GoalDetails, today: date, measures: set[str], *, changing: PlanGoal | None = None
                  ) -> dict:
    errors: dict[str, str] = {}
    if details.area not in AREAS:
        errors["area"] = "Choose the area of need this goal is about."
    wants, how = _text(details.wants), _text(details.how_we_know)
    if not wants:
        errors["wants"] = "Write what they want to achieve, in their words."
    if not how:
        errors["how_we_know"] = "Say how you will both know it is achieved, in plain words (“has a tenancy signed”)."
    _limit(errors, "wants", wants)
    _limit(errors, "how_we_know", how)
    if details.target in TARGETS:
        target_on = add_months(today, TARGETS[details.target])
    elif details.target == "date" and details.target_on is None:
        errors["target_on"] = "Enter the target date."
        target_on = None
    elif details.target == "date":
        target_on = details.target_on
        unchanged = changing is not None and changing.target_on == target_on
        if target_on < today and not unchanged:
            errors["target_on"] = "The target date is in the past: choose a date from today on."
    else:
        errors["target"] = "Choose a target: 3, 6 or 12 months, or a date."
        target_on = None
    if any(area not in AREAS for area in details.related_areas):
        errors["related_areas"] = "Choose related areas from the list."
    if details.measure and details.measure not in measures:
        errors["measure"] = "Choose a measure from the list."
    if details.status not in GOAL_STATUSES:
        errors["status"] = "Choose the goal's status."
    # A reason goes with achieved and no longer needed only: it is asked for when the goal comes to
    # that status (added so, or changed to it), and dropped when it goes back to active or future.
    ended = details.status in ("achieved", "not_needed")
    reason = _text(details.status_reason) if ended else ""
    if ended and (changing is None or changing.status != details.status) and not reason:
        errors["status_reason"] = "Say why (e.g. what showed it was achieved, or why it is no longer needed)."
    _limit(errors, "status_reason", reason)
    if errors:
        raise ValidationError(errors)
    return {"area": details.area, "wants": wants, "how_we_know": how, "target_on": target_on,
            "related_areas": [a for a in AREAS if a in details.related_areas and a != details.area],
            "measure": details.measure or None, "status": details.status, "status_reason": reason or None}


def _open_plan(session: Session, viewer: User, person: Person, now: datetime, today: date) -> Plan:
    plan = session.exec(select(Plan).where(Plan.person_id == person.id, Plan.team_id == person.team_id,
                                           Plan.status == "open")).first()
    if plan is None:
        plan = Plan(team_id=person.team_id, person_id=person.id, review_due_on=next_review(person.risk_level, today),
                    created_by_id=viewer.id, created_at=now)
        session.add(plan)
        session.flush()
    return plan


def _require_open(plan: Plan) -> None:
    if plan.status != "open":
        raise ValidationError({"": "This plan is closed: start a new plan to add to it."})


def add_goal(session: Session, viewer: User, person: Person, details: GoalDetails, *, now: datetime, today: date,
             measures: set[str] = frozenset()) -> PlanGoal:
    """A goal on the person's open plan (a plan is started with its first goal)."""
    values = _checked_goal(details, today, measures)
    plan = _open_plan(session, viewer, person, now, today)
    goal = PlanGoal(plan_id=plan.id, team_id=plan.team_id, created_at=now, **values)
    session.add(goal)
    _new_version(session, viewer, plan, "change", f"Goal added: “{goal.wants}”", now)
    return goal


def change_goal(session: Session, viewer: User, goal: PlanGoal, details: GoalDetails, *, now: datetime, today: date,
                measures: set[str] = frozenset()) -> bool:
    plan = session.get(Plan, goal.plan_id)
    _require_open(plan)
    values = _checked_goal(details, today, measures, changing=goal)
    changed = [k for k, v in values.items() if getattr(goal, k) != v]
    if not changed:
        return False
    for key in changed:
        setattr(goal, key, values[key])
    session.add(goal)
    _new_version(session, viewer, plan, "change", f"Goal changed: “{goal.wants}”", now)
    return True


@dataclass(frozen=True)
class StepDetails:
    what: str
    owner: str
    owner_name: str | None = None
    due_on: date | None = None
    status: str = "not_started"


def add_step(session: Session, viewer: User, goal: PlanGoal, details: StepDetails, *, now: datetime,
             today: date) -> PlanStep:
    plan = session.get(Plan, goal.plan_id)
    _require_open(plan)
    errors: dict[str, str] = {}
    what, owner_name = _text(details.what), _text(details.owner_name)
    if not what:
        errors["what"] = "Write what the step is."
    _limit(errors, "what", what)
    if details.owner not in STEP_OWNERS:
        errors["owner"] = "Say who does it: the person, you, another service or someone else."
    elif details.owner in ("service", "other") and not owner_name:
        errors["owner_name"] = "Name the service or the person who does it."
    if len(owner_name) > 120:
        errors["owner_name"] = "At most 120 characters."
    if details.due_on is not None and details.due_on < today:
        errors["due_on"] = "The date is in the past: choose a date from today on."
    if details.status not in STEP_STATUSES:
        errors["status"] = "Choose the step's status."
    if errors:
        raise ValidationError(errors)
    step = PlanStep(goal_id=goal.id, plan_id=plan.id, team_id=plan.team_id, what=what, owner=details.owner,
                    owner_name=owner_name if details.owner in ("service", "other") else None,
                    owner_id=viewer.id if details.owner == "worker" else None, due_on=details.due_on,
                    status=details.status, created_at=now)
    session.add(step)
    _new_version(session, viewer, plan, "change", f"Step added: {what}", now)
    return step


def set_step_status(session: Session, viewer: User, step: PlanStep, status: str, *, now: datetime) -> bool:
    """False when the step already has that status (a second tap, or an offline send arriving late)."""
    if status not in STEP_STATUSES:
        raise ValidationError({"status": "Choose the step's status."})
    plan = session.get(Plan, step.plan_id)
    _require_open(plan)
    if step.status == status:
        return False
    step.status = status
    session.add(step)
    _new_version(session, viewer, plan, "change", f"Step “{step.what}”: {STEP_STATUS_LABELS[status]}", now)
    return True


def worked_on(session: Session, viewer: User, person_id: int | None, goal_ids: list[int], contact_id: int,
              text: str, *, now: datetime) -> list[GoalNote]:
    """A contact's "worked on" goals: a progress note on each (goals not on this person's open plan
    are ignored: a form kept offline may name a goal closed since)."""
    if not goal_ids or person_id is None:
        return []
    goals = session.exec(select(PlanGoal).join(Plan, Plan.id == PlanGoal.plan_id)
                         .where(PlanGoal.id.in_(goal_ids), Plan.person_id == person_id, Plan.status == "open",
                                Plan.team_id == viewer.team_id)).all()
    notes = [GoalNote(goal_id=g.id, plan_id=g.plan_id, team_id=g.team_id, kind="contact", contact_id=contact_id,
                      text=_text(text)[:500] or "Worked on at a contact.", by_id=viewer.id, at=now) for g in goals]
    session.add_all(notes)
    return notes


def open_goals(session: Session, person_ids: list[int], team_id: int) -> dict[int, list[PlanGoal]]:
    """The goals a contact can say it worked on (active and future ones on the open plan), for each
    of these people (one query: Log contact's copy kept for no signal lists a caseload)."""
    found: dict[int, list[PlanGoal]] = {}
    if not person_ids:
        return found
    for goal, person_id in session.exec(select(PlanGoal, Plan.person_id).join(Plan, Plan.id == PlanGoal.plan_id)
                                        .where(Plan.person_id.in_(person_ids), Plan.team_id == team_id,
                                               Plan.status == "open", PlanGoal.status.in_(("active", "future")))
                                        .order_by(PlanGoal.id)).all():
        found.setdefault(person_id, []).append(goal)
    return found
