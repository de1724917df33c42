"""insert_rows: many rows as one statement (one JSON document on PostgreSQL), with what one-row INSERTs keep."""
import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.bulk import insert_rows
from app.db import unit_of_work
from app.models import Delivery, SafetyEvent, Visit
from app.models.types import utcnow


NOW = utcnow()


def _delivery(personas, key, **values):
    now = NOW
    return {"kind": "safety", "event_ref": "alert:1:level:1:0", "recipient_id": personas["worker"].id,
            "high_priority": True, "title": "Alarm", "body": "Body", "url": "/alerts/1", "ack_url": None,
            "topic": None, "ttl_seconds": 60, "max_attempts": 3, "status": "pending", "attempts": 0,
            "next_attempt_at": now, "created_at": now, "subscription_id": None, "channel": "sms",
            "address": "07700900111", "dedupe_key": key, **values}


def test_rows_go_in_once_each_with_what_they_return_and_duplicates_skipped(engine, personas):
    with unit_of_work(engine) as session:
        first = insert_rows(session.connection(), Delivery.__table__,
                            [_delivery(personas, "a"), _delivery(personas, "b", address=None, channel="email")],
                            returning=("dedupe_key", "id"), skip_duplicate="dedupe_key")
        again = insert_rows(session.connection(), Delivery.__table__,
                            [_delivery(personas, "a"), _delivery(personas, "c")],
                            returning=("dedupe_key", "id"), skip_duplicate="dedupe_key")
    assert sorted(key for key, _id in first) == ["a", "b"] and [key for key, _id in again] == ["c"]
    with unit_of_work(engine) as session:
        stored = {row.dedupe_key: row for row in session.exec(select(Delivery)).all()}
    assert {key: row.id for key, row in stored.items()} == dict(first + again)
    assert (stored["a"].address, stored["b"].address, stored["b"].channel) == ("07700900111", None, "email")
    assert stored["a"].created_at == NOW and stored["a"].created_at.utcoffset().total_seconds() == 0  # the moment kept


def test_a_column_of_nothing_but_nulls_and_no_returning(engine, personas):
    now = utcnow()
    with unit_of_work(engine) as session:
        visit = Visit(worker_id=personas["worker"].id, team_id=personas["worker"].team_id, state="active",
                      place="Flat 2", started_at=now, planned_end_at=now, due_at=now, grace_seconds=300,
                      overdue_at=now)
        session.add(visit)
        session.flush()
        assert insert_rows(session.connection(), SafetyEvent.__table__, [
            {"at": now, "made_at": None, "visit_id": visit.id, "alert_id": None, "actor_id": None, "kind": kind,
             "detail": None, "latitude": None, "longitude": None} for kind in ("overdue", "alert_raised")]) == []
    with unit_of_work(engine) as session:
        assert [e.kind for e in session.exec(select(SafetyEvent).order_by(SafetyEvent.id)).all()] == [
            "overdue", "alert_raised"]


def test_a_value_too_long_for_its_column_is_refused_not_cut_short(engine, personas, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce a column's length")
    with pytest.raises(DBAPIError):
        with unit_of_work(engine) as session:
            insert_rows(session.connection(), Delivery.__table__,
                        [_delivery(personas, "a"), _delivery(personas, "b", address="7" * 300)])


def test_rows_carrying_bytes_go_in_whole(engine, personas):
    """A partner service's email carries its PDF: bytes do not go through the JSON document."""
    pdf = b"%PDF-1.7\x00\xff binary"
    with unit_of_work(engine) as session:
        insert_rows(session.connection(), Delivery.__table__, [
            _delivery(personas, key, channel="email", attachment_name="referral.pdf", attachment=pdf)
            for key in ("a", "b")])
    with unit_of_work(engine) as session:
        assert [bytes(row.attachment) for row in session.exec(select(Delivery)).all()] == [pdf, pdf]
