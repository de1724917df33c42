"""The outbox's per-row writes find their row by its id on PostgreSQL, whatever its statistics say."""
import pytest
from sqlalchemy import update

from app.bulk import insert_rows
from app.db import unit_of_work
from app.models import Delivery
from app.services import delivery
from tests.test_bulk import _delivery


def _plan(engine, statement) -> str:
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))


def test_an_outcome_is_written_through_the_primary_key_in_a_burst(engine, personas):
    if engine.dialect.name != "postgresql":
        pytest.skip("about PostgreSQL's planner")
    table = Delivery.__table__
    with unit_of_work(engine) as session:
        insert_rows(session.connection(), table, [_delivery(personas, f"k{n}", status="sent") for n in range(400)])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE delivery")  # the statistics say nothing is being sent...
    with unit_of_work(engine) as session:  # ...and then a burst is claimed
        session.execute(update(Delivery).where(Delivery.id % 4 != 0).values(status="sending", lease_owner="w")
                        .execution_options(synchronize_session=False))
        row_id = session.exec(Delivery.__table__.select().with_only_columns(table.c.id).limit(1)).scalar()
    outcome = (update(table).where(table.c.id == row_id, delivery.still_sending(table.c.status),
                                   table.c.lease_owner == "w").values(status="sent"))
    assert "delivery_pkey" in _plan(engine, outcome)
