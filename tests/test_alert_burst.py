"""A burst of missed check-ins: raised a batch at a time by the same rule as one alert, the first
alarms sent while later ones are still being raised, and sending on a worker's own child processes."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, insert
from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Delivery, SafetyEvent, Team, User, Visit
from app.models.types import utcnow
from app.services import escalation, outbound, push_subscriptions, safety, vapid
from app.services.delivery_job import DeliveryJob
from app.worker import channel_config
from tests.peers import LOCAL_PUSH, PushReceiver

ROOT = Path(__file__).resolve().parent.parent


def due_visits(engine, worker_ids, *, ago=timedelta(seconds=5)):
    """Visits past their grace deadline, in bulk (as the benchmark makes them), one per worker id."""
    now = utcnow()
    with unit_of_work(engine) as session:
        team_of = {u.id: u.team_id for u in session.exec(select(User).where(User.id.in_(worker_ids))).all()}
        session.execute(insert(Visit), [{
            "worker_id": worker_id, "team_id": team_of[worker_id], "state": "active", "place": f"Place {n}",
            "started_at": now - timedelta(hours=1), "planned_end_at": now - ago - timedelta(minutes=5),
            "due_at": now - ago - timedelta(minutes=5), "grace_seconds": 300, "overdue_at": now - ago,
            "remind_at": now - timedelta(minutes=20), "latitude": 51.5 + n / 1000, "longitude": -0.1,
            "location_at": now - timedelta(minutes=30),
        } for n, worker_id in enumerate(worker_ids)])


def statements(engine):
    seen = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_raising_a_burst_takes_the_same_statements_for_3_alerts_as_for_40(engine, personas):
    seen = statements(engine)
    due_visits(engine, [personas["worker"].id] * 3)
    seen.clear()
    assert escalation.detect(engine, utcnow()) == 3
    few = len(seen)
    due_visits(engine, [personas["worker"].id, personas["worker2"].id, personas["other_worker"].id] * 13 + [
        personas["worker"].id])
    seen.clear()
    assert escalation.detect(engine, utcnow()) == 40
    assert len(seen) == few, "a statement per alert: the burst would cost more than it must"


def test_a_batch_is_raised_by_the_single_alert_rules(engine, personas):
    """Buddy first, else the duty supervisor, else the team's supervisors; the worker's own "Are
    you OK?"; the events; the visit's own last known place and when it was taken."""
    with unit_of_work(engine) as session:
        session.get(User, personas["worker"].id).buddy_id = personas["worker2"].id
        session.get(Team, personas["worker"].team_id).duty_supervisor_id = personas["supervisor"].id
        session.get(User, personas["other_worker"].id).buddy_id = personas["other_supervisor"].id
        session.get(User, personas["other_supervisor"].id).active = False  # a buddy who has left: no one
    due_visits(engine, [personas["worker"].id, personas["worker2"].id, personas["other_worker"].id])
    assert escalation.detect(engine, utcnow()) == 3
    expected = {personas["worker"].id: {personas["worker2"].id}, personas["worker2"].id: {personas["supervisor"].id},
                personas["other_worker"].id: set()}  # team B's only supervisor is inactive
    with unit_of_work(engine) as session:
        raised = session.exec(select(Alert).order_by(Alert.id)).all()
        assert len(raised) == 3 and len({a.visit_id for a in raised}) == 3
        for alert in raised:
            visit = session.get(Visit, alert.visit_id)
            assert visit.state == "overdue" and visit.remind_at is None
            assert (alert.kind, alert.state, alert.level) == ("missed_check_in", "open", 1)
            assert (alert.latitude, alert.longitude, alert.location_at) == (visit.latitude, visit.longitude,
                                                                            visit.location_at)
            alarm = {row.recipient_id for row in session.exec(select(Delivery).where(
                Delivery.event_ref == f"alert:{alert.id}:level:1:0")).all()}
            assert alarm == expected[alert.worker_id] == {p.id for p in safety.responders(session, alert, 1)}
            own = session.exec(select(Delivery).where(Delivery.event_ref == f"visit:{visit.id}:missed:{alert.id}")).all()
            assert own and {row.recipient_id for row in own} == {alert.worker_id}
            assert {row.channel for row in own} == {"email", "sms"}  # no phone registered: no push row
            kinds = [e.kind for e in session.exec(select(SafetyEvent).where(SafetyEvent.visit_id == visit.id)
                                                  .order_by(SafetyEvent.id)).all()]
            assert kinds == ["overdue", "alert_raised"]


def test_the_first_alarms_leave_while_the_burst_is_still_being_raised(app, engine, personas):
    """Raising pokes the delivery job: its own thread claims and sends at once, without waiting for
    the worker's next tick (the first arrival used to wait out the whole 1 s detection budget)."""
    settings = app.extensions["fieldline.settings"]
    key = vapid.application_server_key(vapid.load_or_create(None, settings.instance_path))
    with PushReceiver(application_server_key=key) as receiver:
        with unit_of_work(engine) as session:
            push_subscriptions.register(session, session.get(User, personas["supervisor"].id),
                                        receiver.subscription(), rule=LOCAL_PUSH, user_agent=None, now=utcnow())
        job = DeliveryJob(channel_config(settings), owner="poked", lease_seconds=30, threads=2)
        try:
            job(engine, utcnow())  # the first tick starts the job's threads; nothing is due yet
            due_visits(engine, [personas["worker"].id] * 5)
            assert escalation.detect(engine, utcnow(), on_raised=job.poke) == 5
            deadline = time.monotonic() + 20
            while len(receiver.messages) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(receiver.messages) == 5, "no tick since: only the poke could have sent them"
        finally:
            job.close()


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _wait(predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def _command_line(pid):
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")


def _alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_workers_sending_process_is_forked_replaced_when_it_dies_and_stops_when_the_worker_dies(app, database_url):
    settings = app.extensions["fieldline.settings"]
    env = {**os.environ, "DATABASE_URL": database_url, "FIELDLINE_INSTANCE": str(settings.instance_path),
           "FIELDLINE_TICK_SECONDS": "0.2", "FIELDLINE_SEND_PROCESSES": "1"}
    worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        [first] = _wait(lambda: _children(worker.pid))
        # Forked from the worker (its command line, everything already imported), not started afresh.
        assert _command_line(first) == _command_line(worker.pid)
        os.kill(first, signal.SIGKILL)
        [second] = _wait(lambda: [pid for pid in _children(worker.pid) if pid != first])
        assert second != first
        worker.send_signal(signal.SIGKILL)  # a crash: the child sees its parent's pipe close
        worker.wait(10)
        assert _wait(lambda: not _alive(second), 30), "the sending process outlived its worker"
    finally:
        if worker.poll() is None:
            worker.kill()


def _what_the_proxy_is_asked(monkeypatch, proxy_url: str) -> str:
    """Post through HTTPS_PROXY=proxy_url ({port}: a stand-in proxy's) and return the request the
    proxy got (it hangs up after reading it: what matters is what it was asked)."""
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen(1)
    monkeypatch.setenv("HTTPS_PROXY", proxy_url.format(port=proxy.getsockname()[1]))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    asked = []

    def accept():
        connection, _ = proxy.accept()
        asked.append(connection.recv(4096).decode(errors="replace"))
        connection.close()

    listener = threading.Thread(target=accept, daemon=True)
    listener.start()
    try:
        outbound.Outbound(guarded=True).post("https://push.example.invalid/send", data=b"x", timeout=5)
    except Exception:  # the stand-in proxy hangs up
        pass
    listener.join(5)
    proxy.close()
    return asked[0] if asked else ""


def test_the_senders_connections_go_through_the_proxy_from_the_environment(monkeypatch):
    """Through an egress proxy (HTTPS_PROXY) pushes and texts still go via the proxy."""
    asked = _what_the_proxy_is_asked(monkeypatch, "http://127.0.0.1:{port}")
    assert asked.split("\r\n")[0].rsplit(" ", 1)[0] == "CONNECT push.example.invalid:443"


def test_a_guarded_connection_to_a_public_address_is_opened_kept_and_answered(monkeypatch):
    """The guard opens the socket itself (libcurl's socket callback): a public peer's connection
    must carry the message and its answer, and stay open for the next message."""
    from tests.peers import SmsGateway

    checked = []
    monkeypatch.setattr(outbound, "is_public", lambda address: checked.append(address) or True)
    http = outbound.Outbound(guarded=True)
    with SmsGateway() as gateway:
        answers = [http.post(gateway.url + "/sms", json={"to": "07700900111", "body": "x", "reference": f"r{n}"},
                             headers={"Idempotency-Key": f"r{n}"}, timeout=5) for n in range(3)]
        texts = list(gateway.texts)
    assert [(a.status_code, a.reason, a.headers.get("Content-Type")) for a in answers] == [
        (202, "Accepted", "application/json")] * 3
    assert [text["reference"] for text in texts] == ["r0", "r1", "r2"]
    assert checked == ["127.0.0.1"], "one connection, checked once, kept for the next two"


def test_a_timed_out_post_and_a_refused_one_read_differently():
    from tests.peers import HangingServer

    with HangingServer() as hanging:
        try:
            outbound.Outbound().post(f"http://127.0.0.1:{hanging.port}/sms", data=b"x", timeout=0.3)
        except outbound.Unreachable as error:
            hung = outbound.retry_reason(error, "SMS gateway")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    try:
        outbound.Outbound().post(f"http://127.0.0.1:{port}/sms", data=b"x", timeout=2)
    except outbound.Unreachable as error:
        refused = outbound.retry_reason(error, "SMS gateway")
    assert (hung, refused) == ("SMS gateway did not answer in time", "SMS gateway unreachable (connection refused)")


def test_a_vapid_token_is_signed_once_an_hour_per_push_service(monkeypatch):
    """A push service accepts one token for many messages until it expires (RFC 8292): signing one
    per message cost a tenth of a push's CPU."""
    from py_vapid import Vapid

    from app.services import channels

    key = Vapid()
    key.generate_keys()
    first = channels._vapid_headers(key, "mailto:safety@example.org", "https://push.example")
    assert channels._vapid_headers(key, "mailto:safety@example.org", "https://push.example") == first
    assert channels._vapid_headers(key, "mailto:safety@example.org", "https://other.example") != first
    later = time.time() + channels.VAPID_RENEW_AFTER + 1
    monkeypatch.setattr(channels.time, "time", lambda: later)
    assert channels._vapid_headers(key, "mailto:safety@example.org", "https://push.example") != first


def _sms_config(url):
    from app.services import channels

    return channels.ChannelConfig(vapid=None, vapid_subject="mailto:a@b.c", push_timeout=5, smtp_url=None,
                                  mail_from="x@y", sms_gateway_url=url, sms_gateway_token=None, base_url=None)


def test_a_gateway_that_redirects_has_not_sent_the_text():
    """Redirects are not followed: a 3xx from the gateway is a failure that says where to point it,
    never "sent" (it was, when any answer under 400 counted)."""
    from app.services import channels
    from tests.peers import SmsGateway

    with SmsGateway() as gateway:
        gateway.statuses = [302]
        result = channels.send_sms(_sms_config(gateway.url + "/sms"), to="07700900111", body="x", urgent=True,
                                   reference="ref-1")
    assert result.outcome == channels.FAILED and "redirected (302)" in result.detail
    assert gateway.texts == []


def test_a_proxy_login_in_the_environment_is_sent_to_the_proxy(monkeypatch):
    """HTTPS_PROXY=http://user:password@host: the tunnel carries Proxy-Authorization, as requests did."""
    import base64

    asked = _what_the_proxy_is_asked(monkeypatch, "http://egress:s3cret@127.0.0.1:{port}")
    headers = {name.strip().lower(): value.strip() for name, _, value in
               (line.partition(":") for line in asked.split("\r\n")[1:] if line)}
    assert headers.get("proxy-authorization") == f"Basic {base64.b64encode(b'egress:s3cret').decode()}"
