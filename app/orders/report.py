"""What orders offer the person's own copy (subject access): their orders, requirements, the
appointments given as instructions, the compliance record and the evidence packs (what they said;
the packs' PDFs stay with the order), each kind with a section of the PDF summary."""
from typing import Any

from sqlmodel import Session, SQLModel, select

from app.models import ComplianceEvent, EnforceableAppointment, EvidencePack, Order, Person, Requirement
from app.report_material import Material, Summary
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


def register(material: Material) -> None:
    material.holding("orders", _orders, Summary("Orders", lambda row: (
        f"{row['starts_on']} to {row['ends_on']}",
        f"{service.ORDER_LABELS.get(row['kind'], row['kind'])}, made by {row['made_by']}")))
    material.holding("requirements", _holding(Requirement), Summary("Requirements", lambda row: (
        service.REQUIREMENT_LABELS.get(row["kind"], row["kind"]), row.get("detail") or "")))
    material.holding("enforceable_appointments", _holding(EnforceableAppointment))
    material.holding("compliance_events", _holding(ComplianceEvent), Summary("Compliance", _event))
    material.holding("evidence_packs", _holding(EvidencePack, exclude=frozenset({"pdf"})), Summary(
        "Breach evidence packs", lambda row: (row["made_at"][:10], f"version {row['version']}: {row['statement']}")))
