import threading
import time
from datetime import timedelta

from sqlmodel import select

from app.db import unit_of_work
from app.models import Delivery, WorkerHeartbeat
from app.models.types import utcnow
from app.worker import Worker


def test_healthz_before_any_worker_has_ticked(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    quiet = {"configured": True, "status": "ok", "sent_15m": 0, "failed_15m": 0, "retrying": 0}
    assert response.json == {"status": "ok", "database": "ok",
                             "worker": {"last_tick_age_s": None, "expected": False, "expected_because": None,
                                        "ok": True},
                             "channels_failing": [], "channels": {"push": quiet, "email": quiet, "sms": quiet}}


def test_healthz_is_degraded_when_visits_run_and_no_worker_watches_them(client, engine, personas):
    """A clean stop removes the worker's heartbeat: with a visit running, nobody watches its timer."""
    from tests.test_safety_engine import start

    start(engine, personas["worker"], minutes=30)
    worker = Worker(engine, jobs=[])
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        assert _wait_for(lambda: client.get("/healthz").status_code == 200)
    finally:
        stop.set()
        thread.join(5)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "degraded"
    assert response.json["worker"] == {"last_tick_age_s": None, "expected": True,
                                       "expected_because": "visits running", "ok": False}


def test_healthz_says_which_channel_is_failing_without_failing_the_web_processes(client, app, engine, personas):
    """Push answers 500, the mail server and SMS gateway refuse connections (the test app points
    them at a closed port): each channel shows its failures until messages get through again, but
    /healthz stays 200 (a load balancer polling it must not take check-ins and Crisis offline)."""
    from tests.test_notifications import SAFETY, enqueue, make_job, subscribe
    from tests.peers import PushReceiver
    from app.services import vapid

    settings = app.extensions["fieldline.settings"]
    key = vapid.application_server_key(vapid.load_or_create(None, settings.instance_path))
    with PushReceiver(application_server_key=key) as receiver:
        subscribe(engine, personas["worker"], receiver.subscription())
        receiver.answer("phone", 500)
        enqueue(engine, personas["worker"], SAFETY)
        Worker(engine, jobs=[make_job(settings)]).tick()
        response = client.get("/healthz")
        assert response.status_code == 200 and response.json["status"] == "ok"
        assert response.json["channels_failing"] == ["push", "email", "sms"]
        assert response.json["worker"]["ok"] is True
        failing = {"configured": True, "status": "failing", "sent_15m": 0, "failed_15m": 0, "retrying": 1}
        assert response.json["channels"] == {"push": failing, "email": failing, "sms": failing}
        with unit_of_work(engine) as session:  # the push is retried, and goes through
            for row in session.exec(select(Delivery).where(Delivery.channel == "push")).all():
                row.next_attempt_at = utcnow()
        make_job(settings)(engine, utcnow())
        report = client.get("/healthz").json
        channels = report["channels"]
    assert report["channels_failing"] == ["email", "sms"]
    assert channels["push"] == {"configured": True, "status": "ok", "sent_15m": 1, "failed_15m": 0, "retrying": 0}
    assert channels["email"]["status"] == "failing"


def _wait_for(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_healthz_reports_the_worker_heartbeat(client, engine):
    Worker(engine, jobs=[]).tick()
    body = client.get("/healthz").json
    assert body["status"] == "ok"
    assert 0 <= body["worker"]["last_tick_age_s"] < 2


def test_healthz_is_degraded_when_the_worker_stalls(client, engine):
    worker = Worker(engine, jobs=[])
    worker.heartbeat(utcnow() - timedelta(seconds=45))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["worker"]["last_tick_age_s"] >= 45


def test_healthz_is_degraded_when_a_worker_is_expected_but_never_ticked(database_url, tmp_path):
    from app import create_app

    app = create_app({"DATABASE_URL": database_url, "FIELDLINE_INSTANCE": tmp_path / "i",
                      "FIELDLINE_EXPECT_WORKER": "1"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    app.extensions["fieldline.engine"].dispose()


def test_healthz_is_degraded_when_the_database_is_unreachable(tmp_path):
    from app import create_app

    missing = tmp_path / "no-such-dir" / "db.sqlite"
    app = create_app({"DATABASE_URL": f"sqlite:///{missing}", "FIELDLINE_INSTANCE": tmp_path / "i"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_healthz_is_degraded_when_a_postgresql_server_is_unreachable(tmp_path):
    from app import create_app

    app = create_app({"DATABASE_URL": "postgresql+psycopg://fieldline@127.0.0.1:1/nowhere",
                      "FIELDLINE_INSTANCE": tmp_path / "i"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_worker_runs_jobs_sleeps_until_the_earliest_wake_and_retires(engine):
    calls = []

    def job(_engine, now):
        calls.append(now)
        return now + timedelta(seconds=0.05)  # asks to be woken well before the 5 s tick

    worker = Worker(engine, tick_seconds=5, jobs=[job])
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    time.sleep(0.6)
    with unit_of_work(engine) as session:
        assert session.get(WorkerHeartbeat, worker.worker_id) is not None
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert len(calls) >= 4  # woke early several times, instead of once per 5 s
    with unit_of_work(engine) as session:
        assert session.exec(select(WorkerHeartbeat)).all() == []


def test_a_failing_job_does_not_stop_the_others_or_the_heartbeat(engine):
    ran = []

    def broken(_engine, _now):
        raise RuntimeError("boom")

    def fine(_engine, now):
        ran.append(now)

    worker = Worker(engine, jobs=[broken, fine])
    worker.tick()
    assert len(ran) == 1
    with unit_of_work(engine) as session:
        assert session.get(WorkerHeartbeat, worker.worker_id) is not None
