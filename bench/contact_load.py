"""Contact logs, check-ins and the caseload page under load: gunicorn (2 sync workers, as in the
Procfile) driven by wrk from another process with 32 connections, against a team with 500 people.

Each POST is what the phone sends: the form with its CSRF token and a fresh `idempotency_key`
(Log contact and I'm safe are outbox forms), the check-in with the worker's PIN. The 32 clients
send back to back as one worker, so latency is mostly the queue (≈ 32 ÷ throughput). Then 32
paced clients, the phones of 32 workers of the team (each signed in, each on a visit of their
own; Python threads in this process), each send on their own random schedule, on average once
every 2 s, 1 s and 0.5 s, on a new connection each time as a phone would, and the time from
connecting to the last byte of the answer is measured. (wrk can't pace this: it reconnects
before pausing, and an idle open connection holds a gunicorn sync worker.)

The same load then goes to bench/floor_app.py, served the same way: a POST that is one durable
INSERT and nothing else. It is the floor: what this machine and this database can do for any
request that writes, before Fieldline adds a line of its own.

Run: .venv/bin/python bench/contact_load.py [sqlite|postgresql+psycopg://...] [seconds]
"""
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator
from urllib.parse import urlencode

import requests
from sqlmodel import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import make_engine, unit_of_work, upgrade  # noqa: E402
from app.models import Contact, Person, SafetyEvent  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import people, safety  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from bench import floor_app  # noqa: E402

PASSWORD = "bench password 1"
PIN = "2468"
PACED_EVERY_S = (2.0, 1.0, 0.5)  # how often each of the 32 paced clients sends, on average
PHONES = 32


@dataclass
class Phone:
    """A signed-in worker's phone: its session cookie, the CSRF token and the worker's open visit."""
    cookie: str
    token: str
    visit_id: int


def fresh_app(target: str, instance: str):
    """A Fieldline on an empty database at head in `instance` (SQLite there, or `target`'s PostgreSQL
    emptied first), and the environment the served copy needs: the set-up every bench shares."""
    env = {**os.environ, "FIELDLINE_INSTANCE": instance}
    if target != "sqlite":
        env["DATABASE_URL"] = target
    app = create_app({k: v for k, v in env.items() if k in ("FIELDLINE_INSTANCE", "DATABASE_URL")})
    engine = app.extensions["fieldline.engine"]
    if target != "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade(engine)
    return env, app, engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def email(n: int) -> str:
    return "bench@example.org" if n == 0 else f"bench{n}@example.org"


def seed(engine, workers: int = 1) -> tuple[int, list[int]]:
    """A team of `workers` with 500 people (the first worker's caseload), each worker on a visit."""
    with unit_of_work(engine) as session:
        team = create_team(session, TeamSettings(name="Bench team"))
        staff = [create_user(session, email=email(n), name=f"Bench Worker {n}", role="worker", password=PASSWORD,
                             team_id=team.id) for n in range(workers)]
        worker = staff[0]
        levels = ["low", "medium", "high", "very_high"]
        for n in range(500):
            people.create_person(session, worker, people.PersonDetails(name=f"Person {n:03d}", key_worker_id=worker.id,
                                                                       address=f"{n} Bench Street"),
                                 people.RiskUpdate(level=levels[n % 4], flags=["dog"] if n % 7 == 0 else [],
                                                   reason="bench"), now=utcnow())
        visits = []
        for member in staff:
            safety.set_pins(member, pin=PIN, duress_pin="1357")
            visits.append(safety.start_visit(session, member, team,
                                             safety.VisitRequest(place="1 Bench Street", minutes=240), now=utcnow()))
        session.flush()
        return session.exec(select(Person.id)).first(), [visit.id for visit in visits]


def sign_in(base: str, n: int, visit_id: int) -> Phone:
    browser = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', browser.get(base + "/login").text).group(1)
    assert browser.post(base + "/login", data={"email": email(n), "password": PASSWORD, "csrf_token": token},
                        allow_redirects=False).status_code == 303
    token = re.search(r'"X-CSRFToken": "([^"]+)"', browser.get(base + "/").text).group(1)
    return Phone("; ".join(f"{c.name}={c.value}" for c in browser.cookies), token, visit_id)


def post_script(body: str, cookie: str) -> str:
    """wrk Lua: a POST with a new idempotency key each time."""
    return f'''
local counter, sent = 0, 0
function setup(thread) counter = counter + 1; thread:set("thread_id", counter) end
function request()
  sent = sent + 1
  return wrk.format("POST", nil, {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "{cookie}"}}, "{body}&idempotency_key=bench-" .. thread_id .. "-" .. sent .. "-" .. os.time())
end
'''


def paced(port: int, sends: list[tuple[str, str, str]], *, every: float, seconds: float) -> dict:
    """A thread per (path, body, cookie) in `sends`, each sending it at random (exponential)
    intervals averaging `every` seconds: a POST with a fresh idempotency key, or a GET when the
    body is None."""
    time.sleep(3)  # let gunicorn finish what the previous run left queued (wrk closes, the backlog stays)
    latencies, failures = [], []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    run = uuid.uuid4().hex[:8]  # keys are per user: two runs must not share one

    def client(number: int) -> None:
        path, body, cookie = sends[number]
        rng = random.Random(number)
        next_at, sent = time.monotonic() + rng.uniform(0, every), 0
        while next_at < stop:
            time.sleep(max(0.0, next_at - time.monotonic()))
            sent += 1
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                if body is None:
                    connection.request("GET", path, headers={"Cookie": cookie})
                else:
                    connection.request("POST", path, f"{body}&idempotency_key=paced-{run}-{number}-{sent}",
                                       {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except OSError as error:
                status = type(error).__name__
            finally:
                connection.close()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                if not isinstance(status, int) or status >= 400:
                    failures.append(status)
            next_at += rng.expovariate(1 / every)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {"p50": latencies[len(latencies) // 2], "p99": latencies[int(len(latencies) * 0.99)],
            "rps": len(latencies) / seconds, "errors": len(failures), "socket": f"({len(latencies)} requests)"}


def wrk(url: str, script: str, seconds: int, connections: int = 32) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    output = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", handle.name, url],
                            capture_output=True, text=True, timeout=seconds + 60).stdout
    os.unlink(handle.name)

    def in_ms(value: str, unit: str) -> float:
        return float(value) / 1000 if unit == "us" else float(value) * 1000 if unit == "s" else float(value)

    def ms(label):
        return in_ms(*re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output).groups())

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    # "Latency  avg stdev max +/-stdev": the third figure is the slowest request.
    slowest = re.search(r"Latency\s+\S+?(?:us|ms|s)\s+\S+?(?:us|ms|s)\s+([\d.]+)(us|ms|s)", output)
    return {"p50": ms("50"), "p99": ms("99"), "max": in_ms(*slowest.groups()), "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "errors": int(non2xx.group(1)) if non2xx else 0,
            "socket": re.search(r"Socket errors:.*", output).group(0) if "Socket errors" in output else ""}


@contextmanager
def gunicorn(app_spec: str, env: dict) -> Iterator[tuple[str, int]]:
    """Serve `app_spec` as the Procfile does (WEB_CONCURRENCY sync workers, default 2); yields base URL, port."""
    port = free_port()
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--config", "python:app.gunicorn_config",
                               "--workers", env.get("WEB_CONCURRENCY", "2"),
                               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app_spec], env=env, cwd=ROOT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.terminate()
        server.wait(20)


def under_load(base: str, port: int, name: str, sends: list[tuple[str, str, str]], seconds: int) -> dict:
    """The first of `sends` back to back from 32 connections, then each from its own paced client."""
    path, body, cookie = sends[0]
    results = {f"{name}, 32 back to back": wrk(base + path, post_script(body, cookie), seconds)}
    for every in PACED_EVERY_S:
        results[f"{name}, paced ~{every:g} s"] = paced(port, sends, every=every, seconds=2 * seconds)
    return results


def floor(env: dict, seconds: int, body: str) -> dict:
    """The same load on bench/floor_app.py: one durable INSERT per POST and nothing else."""
    engine = make_engine(floor_app.database_url(env))
    floor_app.metadata.create_all(engine)
    engine.dispose()
    with gunicorn("bench.floor_app:create_app()", env) as (base, port):
        return under_load(base, port, "floor: one INSERT", [("/floor", body, "")] * PHONES, seconds)


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    with tempfile.TemporaryDirectory() as instance:
        env, app, engine = fresh_app(target, instance)
        zone = app.extensions["fieldline.settings"].zone  # contact times are typed in local time
        person_id, visit_ids = seed(engine, PHONES)
        engine.dispose()
        happened_at = datetime.now(zone).strftime("%Y-%m-%dT%H:%M")

        def contact(phone: Phone) -> str:
            return urlencode({"csrf_token": phone.token, "person_id": person_id, "contact_type": "face_to_face",
                              "happened_at": happened_at, "notes": "Benchmark contact: talked about housing.",
                              "needs": "housing"})

        with gunicorn("app:create_app()", env) as (base, port):
            phones = [sign_in(base, n, visit_id) for n, visit_id in enumerate(visit_ids)]
            results = under_load(base, port, "contact log",
                                 [("/contacts/new", contact(phone), phone.cookie) for phone in phones], seconds)
            results.update(under_load(base, port, "check-in",
                                      [(f"/visits/{phone.visit_id}/check-in",
                                        urlencode({"csrf_token": phone.token, "pin": PIN}), phone.cookie)
                                       for phone in phones], seconds))
            results["GET /caseload (500 people), 32 back to back"] = wrk(
                base + "/caseload", f'wrk.headers["Cookie"] = "{phones[0].cookie}"\n', seconds)
        results = {**floor(env, seconds, contact(phones[0])), **results}
        engine = create_app({k: v for k, v in env.items()
                             if k in ("FIELDLINE_INSTANCE", "DATABASE_URL")}).extensions["fieldline.engine"]
        with unit_of_work(engine) as session:
            contacts = session.exec(select(func.count()).select_from(Contact)).one()
            check_ins = session.exec(select(func.count()).select_from(SafetyEvent)
                                     .where(SafetyEvent.kind == "checked_in")).one()
        engine.dispose()
    kind = "SQLite" if target == "sqlite" else "PostgreSQL"
    print(f"{kind}: gunicorn {env.get('WEB_CONCURRENCY', '2')} sync workers; wrk 2 threads x 32 connections "
          f"for {seconds} s; {PHONES} paced clients for {2 * seconds} s")
    for name, got in results.items():
        print(f"  {name:46} p50={got['p50']:7.1f} ms  p99={got['p99']:7.1f} ms  {got['rps']:5.0f} req/s  "
              f"non-2xx/3xx={got['errors']} {got['socket']}")
    print(f"  stored: {contacts} contacts, {check_ins} check-ins (one per answered request)")


if __name__ == "__main__":
    main()
