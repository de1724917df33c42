"""The outbox's per-row writes find their row by its id on PostgreSQL, whatever its statistics say."""
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from app.bulk import insert_rows
from app.db import unit_of_work
from app.models import Delivery
from app.models.types import utcnow
from app.services import channels, delivery
from tests.test_bulk import _delivery


def test_an_outcome_is_written_through_the_primary_key_in_a_burst(engine, personas):
    if engine.dialect.name != "postgresql":
        pytest.skip("about PostgreSQL's planner")
    now = utcnow()
    with unit_of_work(engine) as session:
        insert_rows(session.connection(), Delivery.__table__,
                    [_delivery(personas, f"k{n}", status="sent", next_attempt_at=now) for n in range(400)])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE delivery")  # the statistics say nothing is being sent...
    with unit_of_work(engine) as session:  # ...and then a burst falls due and is claimed
        session.execute(update(Delivery).where(Delivery.id % 4 != 0).values(status="pending")
                        .execution_options(synchronize_session=False))
    ids = delivery.claim(engine, now=now, owner="w", lease=timedelta(seconds=60), limit=400)
    items = delivery.load(engine, ids)
    sent = []

    @event.listens_for(engine, "before_cursor_execute")
    def keep(_connection, _cursor, statement, parameters, _context, executemany):
        if statement.startswith("UPDATE delivery"):
            sent.append((statement, parameters[0] if executemany else parameters))

    try:
        delivery.record(engine, [(item, channels.SendResult(channels.SENT, "201")) for item in items[:1]],
                        now=now, owner="w")
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    statement, parameters = sent[0]
    with engine.connect() as connection:
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
    assert "Index Scan using delivery_pkey" in plan and "ix_delivery_due" not in plan, plan
