"""Idempotency-Key over real HTTP: replays, changed bodies, concurrent twins, expiry."""
import threading
from io import BytesIO
from datetime import timedelta

from sqlmodel import func, select

from app.db import unit_of_work
from app.models import Contact, IdempotencyRecord, Photo, SafetyEvent
from app.models.types import utcnow
from app.services import idempotency
from tests.helpers import local_time
from tests.test_caseload import jpeg

CONTACT = {"contact_type": "face_to_face", "happened_at": local_time(), "notes": "Talked about housing.",
           "street_description": "Man, 40s, red jacket"}


def count(engine, model) -> int:
    with unit_of_work(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def send(client, key, token, **changes):
    return client.post("/contacts/new", data={**CONTACT, "csrf_token": token, **changes},
                       headers={"Idempotency-Key": key})


def test_same_key_and_body_replays_the_answer_without_doing_the_work_twice(worker_client, engine):
    token = worker_client.csrf_token()
    first = send(worker_client, "k-1", token)
    again = send(worker_client, "k-1", worker_client.csrf_token())  # a fresh token is not a new request
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count(engine, Contact) == 1
    with unit_of_work(engine) as session:
        record = session.exec(select(IdempotencyRecord)).one()
    assert record.state == "done" and record.status_code == 303


def test_same_key_with_another_body_is_422_and_changes_nothing(worker_client, engine):
    token = worker_client.csrf_token()
    assert send(worker_client, "k-2", token).status_code == 303
    changed = send(worker_client, "k-2", token, notes="Something else")
    assert changed.status_code == 422 and changed.headers["Idempotency-Error"] == "key-reused"
    assert changed.json["code"] == "key-reused" and "Idempotency" not in changed.json["error"]
    assert "already saved with different details" in changed.json["error"]
    # A form the browser sent itself gets the app's own page, in the same plain words.
    page = worker_client.post("/contacts/new", data={**CONTACT, "csrf_token": token, "idempotency_key": "k-2",
                                                      "notes": "Something else"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "Already saved with other details" in text and "Idempotency" not in text
    assert 'aria-label="Main"' in text  # with the app around it: a way on
    assert count(engine, Contact) == 1


def test_a_second_tap_the_browser_sends_itself_waits_for_the_first_and_shows_its_answer(
        worker_client, engine, app, personas):
    token = worker_client.csrf_token()
    body = {**CONTACT, "csrf_token": token, "idempotency_key": "k-twin"}
    with app.test_request_context("/contacts/new", method="POST", data=body):
        from app.idempotent import _fingerprint
        request_hash = _fingerprint(app.secret_key.encode())
    with unit_of_work(engine) as session:
        session.add(IdempotencyRecord(user_id=personas["worker"].id, key="k-twin", request_hash=request_hash,
                                      state="processing", created_at=utcnow()))

    def first_send_finishes():
        with unit_of_work(engine) as session:
            record = session.get(IdempotencyRecord, (personas["worker"].id, "k-twin"))
            record.state, record.status_code, record.location = "done", 303, "/people/7"

    timer = threading.Timer(0.5, first_send_finishes)
    timer.start()
    second = worker_client.post("/contacts/new", data=body)
    timer.join()
    assert second.status_code == 303 and second.headers["Location"].endswith("/people/7")
    assert second.headers["Idempotent-Replayed"] == "true" and count(engine, Contact) == 0


def test_a_twin_still_being_processed_is_409_and_an_abandoned_one_is_taken_over(worker_client, engine, app,
                                                                                   personas):
    token = worker_client.csrf_token()
    body = {**CONTACT, "csrf_token": token}
    with app.test_request_context("/contacts/new", method="POST", data=body):
        from app.idempotent import _fingerprint
        request_hash = _fingerprint(app.secret_key.encode())
    with unit_of_work(engine) as session:
        session.add(IdempotencyRecord(user_id=personas["worker"].id, key="k-3", request_hash=request_hash,
                                      state="processing", created_at=utcnow()))
    busy = send(worker_client, "k-3", token)
    assert busy.status_code == 409 and count(engine, Contact) == 0
    with unit_of_work(engine) as session:
        session.get(IdempotencyRecord, (personas["worker"].id, "k-3")).created_at = utcnow() - timedelta(minutes=3)
    assert send(worker_client, "k-3", token).status_code == 303 and count(engine, Contact) == 1


def test_fifty_concurrent_replays_of_one_key_create_one_record(app, worker_client, engine):
    token = worker_client.csrf_token()
    cookie = worker_client.get_cookie("fieldline_session").value
    answers, barrier = [], threading.Barrier(50)

    def replay():
        client = app.test_client()
        client.set_cookie("fieldline_session", cookie)
        barrier.wait()
        answers.append(send(client, "same-key", token, photos=[(BytesIO(jpeg()), "door.jpg")]))

    threads = [threading.Thread(target=replay) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(a.status_code for a in answers)
    assert len(statuses) == 50 and set(statuses) <= {303, 409}, statuses
    assert count(engine, Contact) == 1 and count(engine, Photo) == 1
    # Once the first has finished, every later replay gets its answer.
    late = send(worker_client, "same-key", token, photos=[(BytesIO(jpeg()), "door.jpg")])
    assert late.status_code == 303 and late.headers["Idempotent-Replayed"] == "true"


def test_a_refused_request_frees_its_key_for_the_corrected_one(worker_client, engine):
    token = worker_client.csrf_token()
    invalid = send(worker_client, "k-4", token, contact_type="")
    assert invalid.status_code == 422 and "Choose the kind of contact." in invalid.get_data(as_text=True)
    assert count(engine, IdempotencyRecord) == 0
    assert send(worker_client, "k-4", token).status_code == 303 and count(engine, Contact) == 1


def test_a_forged_request_spends_no_key(worker_client, engine):
    refused = worker_client.post("/contacts/new", data=CONTACT, headers={"Idempotency-Key": "k-5"})
    assert refused.status_code == 400 and count(engine, IdempotencyRecord) == 0


def test_a_queued_check_in_is_applied_once(worker_client, engine, personas):
    from tests.test_safety_web import running, start_visit
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    token = worker_client.csrf_token()
    made_at = (utcnow() - timedelta(minutes=2)).isoformat()
    for _ in range(3):
        answer = worker_client.post(f"/visits/{visit.id}/check-in", data={"csrf_token": token, "made_at": made_at},
                                    headers={"Idempotency-Key": "check-in-1"})
        assert answer.status_code == 303
    with unit_of_work(engine) as session:
        events = session.exec(select(SafetyEvent).where(SafetyEvent.visit_id == visit.id,
                                                        SafetyEvent.kind == "checked_in")).all()
    assert len(events) == 1 and events[0].made_at is not None and events[0].made_at < events[0].at


def test_a_form_the_browser_sent_itself_is_named_on_the_next_page(worker_client, engine):
    token = worker_client.csrf_token()
    answer = worker_client.post("/contacts/new", data={**CONTACT, "csrf_token": token, "idempotency_key": "k-6"})
    assert answer.status_code == 303
    page = worker_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'data-outbox-answered="k-6"' in page
    # A form shown again with its errors names the key it answered straight away.
    shown = worker_client.post("/contacts/new", data={**CONTACT, "csrf_token": token, "idempotency_key": "k-7",
                                                      "contact_type": ""})
    assert shown.status_code == 422 and 'data-outbox-answered="k-7"' in shown.get_data(as_text=True)


def test_an_answer_lost_with_its_process_still_counts_as_done(worker_client, engine, personas):
    with unit_of_work(engine) as session:
        session.add(IdempotencyRecord(user_id=personas["worker"].id, key="k-8", request_hash="x" * 64,
                                      state="committed", created_at=utcnow()))
    token = worker_client.csrf_token()
    with unit_of_work(engine) as session:
        session.get(IdempotencyRecord, (personas["worker"].id, "k-8")).request_hash = _hash_of(worker_client, token)
    answer = send(worker_client, "k-8", token)
    assert answer.status_code == 303 and answer.headers["Idempotent-Replayed"] == "true"
    assert count(engine, Contact) == 0


def _hash_of(client, token):
    app = client.application
    with app.test_request_context("/contacts/new", method="POST", data={**CONTACT, "csrf_token": token}):
        from app.idempotent import _fingerprint
        return _fingerprint(app.secret_key.encode())


def test_keys_are_kept_eight_days(engine, personas):
    now = utcnow()
    with unit_of_work(engine) as session:
        for key, age in (("old", timedelta(days=8, minutes=1)), ("recent", timedelta(days=7, hours=23))):
            session.add(IdempotencyRecord(user_id=personas["worker"].id, key=key, request_hash="h", state="done",
                                          created_at=now - age))
    assert idempotency.purge(engine, now) == 1
    with unit_of_work(engine) as session:
        assert [r.key for r in session.exec(select(IdempotencyRecord)).all()] == ["recent"]


def test_the_worker_purges_old_keys(engine, personas):
    from app.services.idempotency import PurgeJob
    now = utcnow()
    with unit_of_work(engine) as session:
        session.add(IdempotencyRecord(user_id=personas["worker"].id, key="old", request_hash="h", state="done",
                                      created_at=now - timedelta(days=9)))
    job = PurgeJob(every=timedelta(minutes=10))
    job(engine, now)
    assert count(engine, IdempotencyRecord) == 0
    with unit_of_work(engine) as session:
        session.add(IdempotencyRecord(user_id=personas["worker"].id, key="old2", request_hash="h", state="done",
                                      created_at=now - timedelta(days=9)))
    job(engine, now + timedelta(minutes=5))  # not yet due again
    assert count(engine, IdempotencyRecord) == 1
    job(engine, now + timedelta(minutes=10))
    assert count(engine, IdempotencyRecord) == 0


def test_a_double_tap_shows_the_first_answers_message_whichever_answer_the_browser_keeps(
        worker_client, engine, personas):
    # The second tap leaves with the cookie from before the first answer, and its answer's cookie
    # replaces the first's: the message the first answer flashed must come back with the replay.
    from tests.test_safety_web import running, start_visit
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    worker_client.get("/")  # show the visit's start message, so the cookie holds none
    before = worker_client.get_cookie("fieldline_session").value
    body = {"csrf_token": worker_client.csrf_token(), "idempotency_key": "tap-end"}
    first = worker_client.post(f"/visits/{visit.id}/end", data=body)
    assert first.status_code == 303
    worker_client.set_cookie("fieldline_session", before)
    second = worker_client.post(f"/visits/{visit.id}/end", data=body)
    assert second.status_code == 303 and second.headers["Idempotent-Replayed"] == "true"
    page = worker_client.get(second.headers["Location"]).get_data(as_text=True)
    assert page.count("Visit ended. Stay safe.") == 1
    assert 'data-outbox-answered="tap-end"' in page  # the phone drops the item from its outbox
    # A second tap sent after the first answer's cookie arrived carries its message already: once.
    other = {"csrf_token": worker_client.csrf_token(), "idempotency_key": "tap-end-2"}
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    worker_client.get("/")
    assert worker_client.post(f"/visits/{visit.id}/end", data=other).status_code == 303
    again = worker_client.post(f"/visits/{visit.id}/end", data=other)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert worker_client.get("/").get_data(as_text=True).count("Visit ended. Stay safe.") == 1
