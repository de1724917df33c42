"""What plans offer reports (the `plan` topic: goals and the progress noted in the period) and the
person's own copy (subject access): their plans, goals, steps, agreements, the versions (reviews
among them) and the progress notes, each kind with a section of the PDF summary. A fixed number
of queries however long the plans are."""
from typing import Any

from flask import url_for
from sqlmodel import Session, SQLModel, select

from app.models import GoalNote, Person, Plan, PlanAgreement, PlanGoal, PlanStep, PlanVersion
from app.report_material import Material, PeriodView, Sentence, Summary
from app.services import plans as service


def _rows(session: Session, model: type[SQLModel], plan_ids: list[int]) -> list[dict[str, Any]]:
    return [row.model_dump(mode="json") for row in session.exec(
        select(model).where(model.plan_id.in_(plan_ids)).order_by(model.id))]


def _plan_ids(session: Session, person: Person) -> list[int]:
    return list(session.exec(select(Plan.id).where(Plan.person_id == person.id).order_by(Plan.id))) or [-1]


def _holding(model: type[SQLModel]):
    return lambda session, person: _rows(session, model, _plan_ids(session, person))


def _plans(session: Session, person: Person) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in session.exec(select(Plan).where(Plan.person_id == person.id)
                                                            .order_by(Plan.id))]


def _goal(row: dict) -> tuple[str, str]:
    outcome = f"; at exit: {service.OUTCOME_LABELS[row['outcome']].lower()}" if row.get("outcome") else ""
    return (service.AREA_LABELS.get(row["area"], row["area"]),
            f"{row['wants']} (how we will know: {row['how_we_know']}); "
            f"{service.GOAL_STATUS_LABELS.get(row['status'], row['status']).lower()}{outcome}")


def _step(row: dict) -> tuple[str, str]:
    who = row.get("owner_name") or service.STEP_OWNER_LABELS.get(row["owner"], row["owner"])
    return (row["due_on"] or "", f"{row['what']} ({who}): "
            f"{service.STEP_STATUS_LABELS.get(row['status'], row['status']).lower()}")


def _agreement(row: dict) -> tuple[str, str]:
    words = "; ".join(part for part in (row.get("why"), row.get("comment")) if part)
    return (row["recorded_at"][:10], f"version {row['version']}: "
            f"{service.AGREEMENT_LABELS.get(row['answer'], row['answer'])}" + (f" ({words})" if words else ""))


# ---- what plans offer reports: the goals and their progress in the period ----

def plan(view: PeriodView) -> list[Sentence]:
    """The person's plan (open, else the latest closed): each goal as it stands, the progress noted
    on it in the period, and the person's latest answer to the plan (four queries)."""
    found = service.current_plan(view.session, view.person)
    if found is None or found.created_at >= view.ends_at:
        return []
    state = service.state_of(view.session, found)
    link = url_for("plans.show", person_id=view.person.id)
    sentences = []
    for goal in state.goals:
        outcome = f", at exit {service.OUTCOME_LABELS[goal.outcome].lower()}" if goal.outcome else ""
        sentences.append(Sentence(
            f"Goal ({service.AREA_LABELS.get(goal.area, goal.area).lower()}): {goal.wants} — "
            f"{service.GOAL_STATUS_LABELS.get(goal.status, goal.status).lower()}{outcome}.", link, "Plan",
            in_period=view.holds(goal.created_at)))
        for note in state.notes.get(goal.id, []):
            if view.holds(note.at):
                sentences.append(Sentence(f"{note.at.astimezone(view.zone):%-d %B %Y}: progress on this goal: "
                                          f"{note.text}", link, f"Progress {note.at.astimezone(view.zone):%-d %b %Y}"))
    if state.agreement is not None and state.agreement.recorded_at < view.ends_at:
        sentences.append(Sentence(
            f"The person's answer to the plan (version {state.agreement.version}): "
            f"{service.AGREEMENT_LABELS.get(state.agreement.answer, state.agreement.answer).lower()}.", link,
            "Agreement", in_period=view.holds(state.agreement.recorded_at)))
    return sentences


def register(material: Material) -> None:
    material.topic("plan", plan)
    material.holding("plans", _plans, Summary("Plans", lambda row: (
        row["created_at"][:10], f"plan {row['status']}, review due {row['review_due_on']}"
        + (f", closed {row['closed_at'][:10]}" if row.get("closed_at") else ""))))
    material.holding("plan_goals", _holding(PlanGoal), Summary("Plan goals", _goal))
    material.holding("plan_steps", _holding(PlanStep), Summary("Plan steps", _step))
    material.holding("plan_agreements", _holding(PlanAgreement), Summary("Agreement with the plan", _agreement))
    material.holding("plan_versions", _holding(PlanVersion), Summary(
        "Plan versions and reviews", lambda row: (row["made_at"][:10], f"version {row['number']} ({row['kind']}): "
                                                                        f"{row['change']}")))
    material.holding("goal_notes", _holding(GoalNote), Summary(
        "Progress on goals", lambda row: (row["at"][:10], f"{row['kind']}: {row['text']}")))
