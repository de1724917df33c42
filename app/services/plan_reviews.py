"""A plan's milestones with the person: their agreement to it, its reviews, and its closing (each
goal's outcome and the relapse-prevention plan). Each review and the closing is a new version
(plans.py keeps the versions)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from app.models import GoalNote, Person, Plan, PlanAgreement, PlanGoal, PlanVersion, User
from app.models.plans import AGREEMENTS, EXIT_OUTCOMES
from app.services import ValidationError
from app.services.plans import _limit, _new_version, _require_open, _text, next_review


def record_agreement(session: Session, viewer: User, plan: Plan, answer: str, why: str | None, comment: str | None,
                     *, version: int | None = None, now: datetime) -> PlanAgreement:
    """The person's answer to the plan as a whole (the latest version) or to one change (its version)."""
    errors: dict[str, str] = {}
    why, comment = _text(why), _text(comment)
    if answer not in AGREEMENTS:
        errors["answer"] = "Choose their answer: agrees, does not agree, or could not answer."
    elif answer != "agrees" and not why:
        errors["why"] = "Say why (in their words if they gave a reason)."
    _limit(errors, "why", why)
    _limit(errors, "comment", comment)
    number = plan.version if version is None else version
    if plan.version == 0 or not 1 <= number <= plan.version:
        errors["version"] = "Choose a version of the plan."
    if errors:
        raise ValidationError(errors)
    agreement = PlanAgreement(plan_id=plan.id, team_id=plan.team_id, version=number, answer=answer, why=why or None,
                              comment=comment or None, recorded_by_id=viewer.id, recorded_at=now)
    session.add(agreement)
    session.flush()
    return agreement


def review(session: Session, viewer: User, plan: Plan, person: Person, progress: dict[int, str], *, now: datetime,
           today: date, next_on: date | None = None) -> PlanVersion:
    """Progress per goal (each a note), the next review date, and a new version of the plan."""
    _require_open(plan)
    goals = {g.id: g for g in session.exec(select(PlanGoal).where(PlanGoal.plan_id == plan.id)).all()}
    errors: dict[str, str] = {}
    written = {goal_id: _text(text) for goal_id, text in progress.items() if goal_id in goals and _text(text)}
    live = [g for g in goals.values() if g.status in ("active", "future")]
    for goal in live:
        if goal.id not in written:
            errors[f"progress-{goal.id}"] = "Write how this goal is going (a line is enough)."
        else:
            _limit(errors, f"progress-{goal.id}", written[goal.id])
    if next_on is not None and next_on <= today:
        errors["next_on"] = "The next review must be after today."
    if errors:
        raise ValidationError(errors)
    for goal_id, text in written.items():
        session.add(GoalNote(goal_id=goal_id, plan_id=plan.id, team_id=plan.team_id, kind="review", text=text,
                             by_id=viewer.id, at=now))
    plan.review_due_on = next_on or next_review(person.risk_level, today)
    session.add(plan)
    return _new_version(session, viewer, plan, "review", "Plan reviewed", now)


@dataclass(frozen=True)
class Exit:
    outcomes: dict[int, tuple[str, str]]  # goal id → (outcome, note)
    warning_signs: str = ""
    what_helps: str = ""
    who_to_contact: str = ""
    signposted: str = ""


def close(session: Session, viewer: User, plan: Plan, exit: Exit, *, now: datetime) -> PlanVersion:
    """Each goal's outcome and the relapse-prevention plan; the plan is then closed (a last version)."""
    _require_open(plan)
    goals = list(session.exec(select(PlanGoal).where(PlanGoal.plan_id == plan.id)).all())
    errors: dict[str, str] = {}
    for goal in goals:
        outcome, note = exit.outcomes.get(goal.id, ("", ""))
        if goal.status == "not_needed":
            continue
        if outcome not in EXIT_OUTCOMES:
            errors[f"outcome-{goal.id}"] = "Choose achieved, partly achieved or not achieved."
        _limit(errors, f"note-{goal.id}", _text(note))
    relapse = {name: _text(getattr(exit, name)) for name in ("warning_signs", "what_helps", "who_to_contact",
                                                              "signposted")}
    if not relapse["warning_signs"]:
        errors["warning_signs"] = "Write the warning signs you agreed (what tells them things are slipping)."
    if not relapse["who_to_contact"]:
        errors["who_to_contact"] = "Say who they can contact if things slip."
    for name, value in relapse.items():
        _limit(errors, name, value)
    if errors:
        raise ValidationError(errors)
    for goal in goals:
        outcome, note = exit.outcomes.get(goal.id, (None, ""))
        if goal.status != "not_needed":
            goal.outcome, goal.outcome_note = outcome, _text(note) or None
            session.add(goal)
    for name, value in relapse.items():
        setattr(plan, name, value or None)
    plan.status, plan.closed_at, plan.closed_by_id = "closed", now, viewer.id
    session.add(plan)
    return _new_version(session, viewer, plan, "close", "Plan closed", now)
