"""Commits wait for the disk (a check-in survives a power cut), except the idempotency key's own
bookkeeping, which the request's durable commit covers; the setting never outlives its transaction."""
from sqlalchemy import event, text
from sqlmodel import Session

from app import db
from tests.conftest import USE_PG
from tests.helpers import local_time

SETTING = "SHOW synchronous_commit" if USE_PG else "PRAGMA synchronous"
DURABLE, LIGHT = ("on", "off") if USE_PG else (2, 1)  # SQLite: 2 is FULL, 1 is NORMAL


def one_transaction(engine, options: dict):
    with Session(engine) as session:
        connection = session.connection(execution_options=options)
        value = session.execute(text(SETTING)).scalar()
        pooled = id(connection.connection.dbapi_connection)
        session.commit()
        return value, pooled


def test_only_bookkeeping_transactions_commit_without_waiting_for_the_disk(engine):
    assert one_transaction(engine, {})[0] == DURABLE
    light, light_connection = one_transaction(engine, {db.LIGHT_COMMIT: True})
    assert light == LIGHT
    # The same pooled connection is durable again for the next transaction.
    after, after_connection = one_transaction(engine, {})
    assert after == DURABLE and after_connection == light_connection


def test_a_keyed_request_commits_its_work_durably_and_only_its_key_lightly(worker_client, engine):
    settings = []

    def record_setting(connection):
        settings.append(connection.exec_driver_sql(SETTING).scalar())

    token = worker_client.csrf_token()
    event.listen(engine, "commit", record_setting)
    try:
        answer = worker_client.post("/contacts/new", headers={"Idempotency-Key": "durable-1"},
                                    data={"csrf_token": token, "contact_type": "phone", "happened_at": local_time(),
                                          "notes": "Rang about the tenancy.", "street_description": "Woman, 30s"})
    finally:
        event.remove(engine, "commit", record_setting)
    assert answer.status_code == 303
    # The key claimed, the contact written, the answer kept.
    assert settings[-3:] == [LIGHT, DURABLE, LIGHT]
