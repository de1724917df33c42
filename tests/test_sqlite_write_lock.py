"""SQLite has one write lock for the whole database: pages that read must not hold it, requests that
change things must hold it from their first read (so what they read is what they change)."""
import sqlite3
import threading
import time
from io import BytesIO

import pytest
from flask import session as cookie_session
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.models import AuditEvent, Contact, User
from app.services import photos
from app.models.types import utcnow
from tests.conftest import USE_PG
from tests.test_caseload import add_person, jpeg, log

pytestmark = pytest.mark.skipif(USE_PG, reason="about SQLite's single write lock")


def another_writer(engine) -> sqlite3.Connection:
    """A second connection that refuses to wait for the lock (busy timeout 0)."""
    connection = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=0")
    return connection


def audit_rows(engine, action: str) -> int:
    with db.unit_of_work(engine) as session:
        return session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).one()


def test_a_reading_request_leaves_the_lock_free_and_still_writes_its_audit_row_after_others_wrote(app, engine, personas):
    with app.test_request_context("/caseload", method="GET"):
        session = db.session()
        assert session.get(User, personas["worker"].id) is not None  # a read transaction is open
        other = another_writer(engine)
        other.execute("BEGIN IMMEDIATE")  # would raise "database is locked" if the page held the lock
        other.execute("INSERT INTO audit_event (at, action) VALUES (?, 'other.write')", (utcnow().isoformat(),))
        other.execute("COMMIT")
        other.close()
        # Its snapshot is now older than the database: a plain deferred write would fail here.
        session.add(AuditEvent(at=utcnow(), action="page.view", actor_id=personas["worker"].id))
        session.commit()
    assert audit_rows(engine, "other.write") == 1
    assert audit_rows(engine, "page.view") == 1


def test_a_changing_request_holds_the_lock_from_its_first_read(app, engine, personas):
    with app.test_request_context("/visits/1/check-in", method="POST"):
        session = db.session()
        assert session.get(User, personas["worker"].id) is not None
        other = another_writer(engine)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        session.rollback()
        other.execute("BEGIN IMMEDIATE")  # free again once the request's transaction ends
        other.execute("ROLLBACK")
        other.close()


def test_the_sign_in_lookup_of_a_changing_request_does_not_take_the_lock(app, engine, worker_client):
    """The view takes it for its own work; checking who is signed in only reads."""
    with worker_client.session_transaction() as signed_in:
        contents = dict(signed_in)
    with app.test_request_context("/contacts/new", method="POST"):
        cookie_session.update(contents)
        assert current_user.is_authenticated
        other = another_writer(engine)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()


def test_log_contact_decodes_its_photos_before_it_takes_the_lock(engine, worker_client, monkeypatch):
    """Decoding a phone photo takes a while; no check-in may wait behind it."""
    person_id = add_person(worker_client)
    others_could_write = []
    store = photos.store

    def store_and_try_to_write(image, folder):
        other = another_writer(engine)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            others_could_write.append(True)
        except sqlite3.OperationalError:
            others_could_write.append(False)
        other.close()
        return store(image, folder)

    monkeypatch.setattr(photos, "store", store_and_try_to_write)
    answer = log(worker_client, person_id=str(person_id), photos=(BytesIO(jpeg()), "door.jpg"))
    assert answer.status_code == 303 and others_could_write == [True]
    with db.unit_of_work(engine) as session:
        assert session.exec(select(func.count()).select_from(Contact)).one() == 1


def test_a_writer_gets_the_lock_as_soon_as_it_is_free_and_gives_up_after_the_wait(app, engine, monkeypatch):
    holder = sqlite3.connect(engine.url.database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: holder.execute("COMMIT")).start()
    started = time.monotonic()
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: waits for the holder to let go
        waited = time.monotonic() - started
        # SQLite's own busy timeout is back in force for the connection's other statements.
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.WRITE_LOCK_WAIT_S * 1000
        connection.rollback()
    assert waited >= 0.29
    holder.execute("BEGIN IMMEDIATE")  # and this time never lets go
    monkeypatch.setattr(db, "WRITE_LOCK_WAIT_S", 0.2)
    with pytest.raises(Exception, match="database is locked"):
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    holder.execute("ROLLBACK")
    holder.close()


def test_a_check_in_that_cannot_get_the_lock_is_a_503_the_phone_sends_again(engine, worker_client, personas,
                                                                             monkeypatch):
    from tests.test_safety_web import running, start_visit

    assert start_visit(worker_client).status_code == 303
    visit = running(engine, personas["worker"])
    token = worker_client.csrf_token("/")
    holder = another_writer(engine)
    holder.execute("BEGIN IMMEDIATE")  # a stuck writer, held past the wait
    monkeypatch.setattr(db, "WRITE_LOCK_WAIT_S", 0.2)
    answer = worker_client.post(f"/visits/{visit.id}/check-in", data={"csrf_token": token, "idempotency_key": "k"})
    holder.execute("ROLLBACK")
    holder.close()
    html = answer.get_data(as_text=True)
    assert answer.status_code == 503 and "could not save this" in html and "your deadline has not moved" in html
    assert worker_client.post(f"/visits/{visit.id}/check-in",
                              data={"csrf_token": token, "idempotency_key": "k"}).status_code == 303
