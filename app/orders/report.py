"""What orders offer reports: for each order in force during the period, the attendance under it,
the absences with their reasons, and the warnings and decisions, from the period's compliance
events only (two queries however long the record)."""
from flask import url_for

from app.report_material import Material, PeriodView, Sentence
from app.services import compliance, orders
from app.services import compliance_rules as rules


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def sentences(view: PeriodView) -> list[Sentence]:
    found = [o for o in orders.orders_for(view.session, view.person)
             if o.starts_on <= view.end and (o.expected_end_on or o.ends_on) >= view.start]
    if not found:
        return []
    events = compliance.events_between(view.session, view.person, view.start, view.end)
    said = []
    for order in sorted(found, key=lambda o: o.starts_on):
        mine = [e for e in events if e.order_id == order.id]
        href, label = url_for("orders.show", order_id=order.id), orders.ORDER_LABELS[order.kind]
        said.append(Sentence(f"Under a {label.lower()} made by {order.made_by} on {order.starts_on:%-d %B %Y}, "
                             f"ending {order.expected_end_on or order.ends_on:%-d %B %Y}.", href, label, in_period=False))
        outcomes = rules.effective_outcomes(mine)
        if outcomes:
            kept = sum(e.outcome in rules.KEPT for e in outcomes)
            acceptable = [e for e in outcomes if e.outcome == "acceptable_absence"]
            failed = sum(e.outcome in rules.FAILURES for e in outcomes)
            reasons = ", ".join(orders.ABSENCE_LABELS[e.absence_reason].lower() for e in acceptable if e.absence_reason)
            said.append(Sentence(
                f"{_count(len(outcomes), 'instruction', 'instructions')} with an outcome in the period: {kept} kept, "
                f"{_count(len(acceptable), 'acceptable absence', 'acceptable absences')}"
                + (f" ({reasons})" if reasons else "") + f", {failed} unacceptable.", href, label))
        for e in rules.warnings_given(mine):
            said.append(Sentence(f"Warning given on {e.occurred_on:%-d %B %Y}.", href, label))
        family = rules.family_of(order.kind)
        for e in mine:
            if e.kind == "decision" and e.decision not in rules.WARNING_DECISIONS:
                said.append(Sentence(f"Decision on {e.occurred_on:%-d %B %Y}: "
                                     f"{compliance.decision_labels(family)[e.decision].lower()}.", href, label))
    return said


def register(material: Material) -> None:
    material.topic("compliance", sentences)
