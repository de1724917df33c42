"""What /healthz reports: can we reach the database, is a worker watching the timers, and is each
message channel getting messages out."""
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, and_, func, or_, select

from app.models import Alert, Delivery, Visit, WorkerHeartbeat
from app.services.channels import CHANNELS

STALE_AFTER_SECONDS = 30
CHANNEL_WINDOW = timedelta(minutes=15)


def check(session: Session, *, now: datetime, expect_worker: bool,
          configured: set[str] | frozenset[str] = frozenset(CHANNELS)) -> tuple[dict, bool]:
    """Returns the report and whether everything is healthy."""
    try:
        session.exec(text("SELECT 1"))
        last_tick = session.exec(select(func.max(WorkerHeartbeat.ticked_at))).one()
        waiting = "FIELDLINE_EXPECT_WORKER" if expect_worker else _work_waiting(session)
        channels = {name: _channel(session, name, name in configured, now) for name in CHANNELS}
    except SQLAlchemyError:
        return {"status": "degraded", "database": "unreachable", "worker": {"last_tick_age_s": None}}, False

    age = None
    if last_tick is not None:
        age = round(max(0.0, (now - last_tick).total_seconds()), 1)
    # A worker is expected whenever something needs one (a visit running, an alert open, a message
    # waiting) or when the deployment says so. A clean stop removes its heartbeat, a crash leaves it
    # to go stale: either way, nobody is watching the timers.
    expected = bool(waiting)
    if age is not None:
        worker_ok = age <= STALE_AFTER_SECONDS
    else:
        worker_ok = not expected
    # A failing channel is reported, not answered with 503: a load balancer that polls /healthz
    # must not take the web processes (and with them check-ins and Crisis) out for a bounced email.
    failing = [name for name, report in channels.items() if report["status"] == "failing"]
    healthy = worker_ok
    report = {
        "status": "ok" if healthy else "degraded",
        "channels_failing": failing,
        "database": "ok",
        "worker": {"last_tick_age_s": age, "expected": expected, "expected_because": waiting or None,
                   "ok": worker_ok},
        "channels": channels,
    }
    return report, healthy


def _work_waiting(session: Session) -> str | None:
    """Why a worker is needed right now, if it is (each an indexed lookup)."""
    if session.exec(select(Visit.id).where(Visit.state == "active").limit(1)).first() is not None:
        return "visits running"
    if session.exec(select(Alert.id).where(Alert.state == "open").limit(1)).first() is not None:
        return "alerts open"
    if session.exec(select(Delivery.id).where(Delivery.status == "pending").limit(1)).first() is not None:
        return "messages waiting"
    return None


def _channel(session: Session, name: str, configured: bool, now: datetime) -> dict:
    """Attempts in the last 15 minutes: sent, given up, waiting to retry. Failing: some failed and
    none got through. A push to a phone that has gone (the device was deleted) is not a channel fault."""
    if not configured:
        return {"configured": False, "status": "not configured"}
    since = now - CHANNEL_WINDOW
    device_gone = and_(Delivery.channel == "push", Delivery.subscription_id.is_(None))
    counts = dict(session.exec(
        select(Delivery.status, func.count())
        .where(Delivery.channel == name, Delivery.attempts > 0, Delivery.next_attempt_at >= since,
               or_(Delivery.status == "sent",
                   and_(Delivery.status.in_(("failed", "pending")), Delivery.last_error.is_not(None),
                        ~device_gone)))
        .group_by(Delivery.status)
    ).all())
    sent, failed, retrying = counts.get("sent", 0), counts.get("failed", 0), counts.get("pending", 0)
    status = "failing" if (failed or retrying) and not sent else "ok"
    return {"configured": True, "status": status, "sent_15m": sent, "failed_15m": failed, "retrying": retrying}
