"""What orders offer reports (the `compliance` topic: each order in force in the period, what was
kept and missed in it, warnings and decisions, each requirement's progress) and the person's own
copy (subject access): their orders, requirements, the appointments given as instructions, the
compliance record and the evidence packs (what they said; the packs' PDFs stay with the order),
each kind with a section of the PDF summary."""
from typing import Any

from flask import url_for
from sqlmodel import Session, SQLModel, select

from app.models import ComplianceEvent, EnforceableAppointment, EvidencePack, Order, Person, Requirement
from app.report_material import Material, PeriodView, Sentence, Summary
from app.services import compliance
from app.services import compliance_rules as rules
from app.services import orders as service


def _order_ids(session: Session, person: Person) -> list[int]:
    return list(session.exec(select(Order.id).where(Order.person_id == person.id))) or [-1]


def _holding(model: type[SQLModel], *, exclude: frozenset[str] = frozenset()):
    def load(session: Session, person: Person) -> list[dict[str, Any]]:
        return [row.model_dump(mode="json", exclude=set(exclude)) for row in session.exec(
            select(model).where(model.order_id.in_(_order_ids(session, person))).order_by(model.id))]
    return load


def _orders(session: Session, person: Person) -> list[dict[str, Any]]:
    return [o.model_dump(mode="json") for o in session.exec(select(Order).where(Order.person_id == person.id)
                                                             .order_by(Order.id))]


def _event(row: dict) -> tuple[str, str]:
    what = row["kind"].replace("_", " ")
    if row.get("outcome"):
        what += f": {service.OUTCOME_LABELS.get(row['outcome'], row['outcome']).lower()}"
    if row.get("decision"):
        what += f": {row['decision'].replace('_', ' ')}"
    return row["occurred_on"], what + (f" ({row['reason']})" if row.get("reason") else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def compliance_panel(view: PeriodView) -> list[Sentence]:
    """The compliance panel for the period: a fixed number of queries however many orders."""
    sentences = []
    for panel in compliance.panels(view.session, view.person, view.now, view.zone):
        order = panel.order
        if order.starts_on > view.end or (order.expected_end_on or order.ends_on) < view.start:
            continue
        link = url_for("orders.show", order_id=order.id)
        inside = [e for e in panel.events if view.start <= e.occurred_on <= view.end]
        outcomes = rules.effective_outcomes(inside)
        kept = sum(e.outcome in rules.KEPT for e in outcomes)
        acceptable = sum(e.outcome == "acceptable_absence" for e in outcomes)
        failed = sum(e.outcome in rules.FAILURES for e in outcomes)
        warnings = sum(e.kind == "warning" for e in inside)
        decisions = [e for e in inside if e.kind == "decision"]
        text = (f"{panel.label} made by {order.made_by} ({order.starts_on:%-d %B %Y} to {order.ends_on:%-d %B %Y}): "
                f"in the period {_plural(kept, 'instruction')} kept, {_plural(acceptable, 'acceptable absence')}, "
                f"{failed} not kept; {_plural(warnings, 'warning')} given")
        labels = compliance.decision_labels(panel.family)
        text += ("; decisions: " + ", ".join(labels.get(d.decision, d.decision).lower() for d in decisions)
                 if decisions else "") + f". Now: {panel.status}."
        sentences.append(Sentence(text, link, f"Order {order.starts_on:%-d %b %Y}",
                                  in_period=bool(inside)))
        sentences += [Sentence(f"{p.label}: {p.line}.", link, p.label, in_period=False)
                      for p in panel.requirements]
    return sentences


def register(material: Material) -> None:
    material.topic("compliance", compliance_panel)
    material.holding("orders", _orders, Summary("Orders", lambda row: (
        f"{row['starts_on']} to {row['ends_on']}",
        f"{service.ORDER_LABELS.get(row['kind'], row['kind'])}, made by {row['made_by']}")))
    material.holding("requirements", _holding(Requirement), Summary("Requirements", lambda row: (
        service.REQUIREMENT_LABELS.get(row["kind"], row["kind"]), row.get("detail") or "")))
    material.holding("enforceable_appointments", _holding(EnforceableAppointment))
    material.holding("compliance_events", _holding(ComplianceEvent), Summary("Compliance", _event))
    material.holding("evidence_packs", _holding(EvidencePack, exclude=frozenset({"pdf"})), Summary(
        "Breach evidence packs", lambda row: (row["made_at"][:10], f"version {row['version']}: {row['statement']}")))
