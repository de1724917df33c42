import threading
import time
from datetime import timedelta

from sqlmodel import select

from app.db import unit_of_work
from app.models import WorkerHeartbeat
from app.models.types import utcnow
from app.worker import Worker


def test_healthz_before_any_worker_has_ticked(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "worker": {"last_tick_age_s": None}}


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
