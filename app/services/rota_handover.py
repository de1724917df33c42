"""The shift change, from the worker's tick: every alert still open goes to the duty supervisor on
duty now whenever that changes (a shift ended, a one-off change began). The rota itself, and who
is on duty when, is app/services/rota.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from app.models import Alert, User, Visit
from app.services.rota import duty_supervisor_ids

HANDED_TITLE = "Safety alert — handed to you at the shift change"


def handover_open_alerts(session: Session, now: datetime) -> int:
    """Give every alert still open to the duty supervisor on duty now, when that has changed (a
    shift ended, a one-off change began): an event on the alert, and a message to whoever the
    ladder now reaches that it did not before. Returns alerts handed over. Safe with many workers:
    the conditional UPDATE lets one of them win each handover."""
    from app.services import safety  # the ladder (safety imports this module for raise_alert)
    from app.services import delivery as delivery_service

    # Teams first, then only the alerts whose holder is not the duty supervisor now: the worker
    # asks every tick, and a burst leaves a thousand alerts open (reading them all each tick cost
    # a tenth of raising them).
    teams = set(session.exec(select(Alert.team_id).where(Alert.state == "open").distinct()).all())
    if not teams:
        return 0
    duty = duty_supervisor_ids(session, teams, now)
    held = session.exec(select(Alert.id, Alert.team_id, Alert.duty_supervisor_id).where(
        Alert.state == "open",
        or_(*(and_(Alert.team_id == team_id, Alert.duty_supervisor_id.is_distinct_from(duty.get(team_id)))
              for team_id in teams)))).all()
    handed = 0
    for alert_id, team_id, holder in held:
        new = duty.get(team_id)
        if new == holder:
            continue
        alert = session.get(Alert, alert_id)
        before = {person.id for person in safety.responders(session, alert, alert.level)}
        claimed = session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.state == "open",
                   Alert.duty_supervisor_id.is_(None) if holder is None else Alert.duty_supervisor_id == holder)
            .values(duty_supervisor_id=new)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        session.refresh(alert)
        taker = session.get(User, new) if new else None
        safety.record_event(session, "handed_over", now=now, alert=alert,
                            visit=session.get(Visit, alert.visit_id) if alert.visit_id else None,
                            detail=f"shift change: now with {taker.name}" if taker
                            else "shift change: no shift covers now, every supervisor")
        message = delivery_service.Message(
            kind="safety", event_ref=f"alert:{alert.id}:level:{alert.level}:{alert.repeats}:handover:{int(now.timestamp())}",
            title=HANDED_TITLE, body="Open Fieldline to see who, and respond.", url=f"/alerts/{alert.id}",
            ack_url=f"/alerts/{alert.id}/acknowledge", topic=f"alert-{alert.id}")
        for person in safety.responders(session, alert, alert.level):
            if person.id not in before:
                delivery_service.enqueue(session, message, person, now=now)
        handed += 1
    return handed


def handover_job(engine, now: datetime) -> None:
    """The worker's job: hand over at shift changes (one query a tick while no alert is open)."""
    from app.db import unit_of_work

    with unit_of_work(engine) as session:
        handover_open_alerts(session, now)
    return None
