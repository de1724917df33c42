"""What orders add to a person's record: the Orders card (each order's compliance panel, in words
and colour) and warnings, decisions and evidence steps on the timeline (a page of them at a time)."""
from app.orders import bp
from app.record import Entry, PersonView, Record, on_the_record
from app.services import compliance, orders
from app.services import compliance_rules as rules


def person_orders(view: PersonView):
    """The person's orders, loaded once for the page (the card, this timeline, the appointments'
    outcome words)."""
    return view.shared("order_rows", lambda: orders.orders_for(view.session, view.person))


def _panels(view: PersonView):
    return view.shared("orders", lambda: compliance.panels(view.session, view.person, view.now, view.zone,
                                                           person_orders(view)))


def card(view: PersonView) -> dict:
    return {"panels": _panels(view), "prompt_label": compliance.prompt_label}


def compliance_entries(view: PersonView) -> list[Entry]:
    """Warnings, decisions and evidence steps: only the window's page of them is loaded."""
    found = {order.id: order for order in person_orders(view)}
    if not found:  # no order: no query
        return []
    entries = []
    for event in compliance.timeline_events(view.session, view.person, before=view.window.before,
                                            limit=view.window.fetch):
        order = found.get(event.order_id)
        if order is None:
            continue
        if event.kind == "warning":
            label = "Warning given"
        elif event.kind == "decision":
            label = f"Decision: {compliance.decision_labels(rules.family_of(order.kind))[event.decision]}"
        elif event.kind == "evidence_chased":
            label = f"Evidence chased {orders.TOLD_HOW[event.how].lower()}"
        else:
            label = "Evidence received"
        tone = "danger" if event.decision == "breach" else "ok" if event.kind == "evidence_received" else "warn"
        entries.append(Entry("compliance", event.recorded_at, "orders/_timeline_compliance.html",
                             {"event": event, "order": order, "label": label, "tone": tone}))
    return entries


@on_the_record(bp)
def register(record: Record) -> None:
    record.card("orders", "orders/_card.html", card, order=15)
    record.timeline("compliance", compliance_entries, order=45)
