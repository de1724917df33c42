"""What /healthz reports: can we reach the database, and is the safety engine ticking."""
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, func, select

from app.models import WorkerHeartbeat

STALE_AFTER_SECONDS = 30


def check(session: Session, *, now: datetime, expect_worker: bool) -> tuple[dict, bool]:
    """Returns the report and whether everything is healthy."""
    try:
        session.exec(text("SELECT 1"))
        last_tick = session.exec(select(func.max(WorkerHeartbeat.ticked_at))).one()
    except SQLAlchemyError:
        return {"status": "degraded", "database": "unreachable", "worker": {"last_tick_age_s": None}}, False

    age = None
    if last_tick is not None:
        age = round(max(0.0, (now - last_tick).total_seconds()), 1)
    # A worker is expected once one has ever ticked here (its row stays if it dies) or when the
    # deployment says so; a stale or missing heartbeat then means nobody is watching the timers.
    worker_ok = True
    if age is not None:
        worker_ok = age <= STALE_AFTER_SECONDS
    elif expect_worker:
        worker_ok = False
    healthy = worker_ok
    report = {
        "status": "ok" if healthy else "degraded",
        "database": "ok",
        "worker": {"last_tick_age_s": age},
    }
    return report, healthy
