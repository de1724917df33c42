"""Reconnect to confirmed: 20 contacts logged with no signal in a real Chromium, then the signal
comes back; how long until the last one is confirmed by the server (and the outbox is empty)?

Run: .venv/bin/python bench/offline_replay.py [items] [rounds]

The app runs in-process (werkzeug, threaded) on SQLite, as in the browser tests.
"""
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.db import unit_of_work, upgrade  # noqa: E402
from app.models import Contact, Person  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import people  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS, PHONE, _chromium_path  # noqa: E402

PASSWORD = "bench password 1"


def contacts(engine) -> int:
    with unit_of_work(engine) as session:
        return session.exec(select(func.count()).select_from(Contact)).one()


def main() -> None:
    from playwright.sync_api import sync_playwright

    items = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    instance = tempfile.mkdtemp()
    app = create_app({"FIELDLINE_INSTANCE": instance})
    engine = app.extensions["fieldline.engine"]
    upgrade(engine)
    with unit_of_work(engine) as session:
        team = create_team(session, TeamSettings(name="Bench team"))
        worker = create_user(session, email="bench@example.org", name="Bench Worker", role="worker",
                             password=PASSWORD, team_id=team.id)
        people.create_person(session, worker, people.PersonDetails(name="Dana Doorstep", key_worker_id=worker.id),
                             people.RiskUpdate(level="medium", reason="bench"), now=utcnow())
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        for _ in range(rounds):
            context = browser.new_context(**PHONE)
            page = context.new_page()
            page.goto(base + "/login")
            page.get_by_label("Email").fill("bench@example.org")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/")
            page.goto(base + "/contacts/new")
            page.evaluate("navigator.serviceWorker.ready")
            page.reload()
            before = contacts(engine)
            context.set_offline(True)
            for n in range(items):
                page.get_by_role("radio", name="Dana Doorstep").check()
                page.get_by_label("Notes").fill(f"Offline contact {n}")
                page.get_by_role("button", name="Save contact").click()
                while page.evaluate("async () => (await FieldlineOutbox.all()).length") < n + 1:
                    page.wait_for_timeout(10)
            start = time.perf_counter()
            context.set_offline(False)
            while page.evaluate("async () => (await FieldlineOutbox.all()).length") > 0:
                page.wait_for_timeout(10)
            elapsed = time.perf_counter() - start
            assert contacts(engine) - before == items, "every queued contact arrives exactly once"
            timings.append(elapsed)
            context.close()
        browser.close()
    server.shutdown()
    with unit_of_work(engine) as session:
        assert session.exec(select(func.count()).select_from(Person)).one() == 1
    print(f"Reconnect to last of {items} queued contacts confirmed (Chromium, werkzeug, SQLite), {rounds} rounds:")
    print(f"  median {statistics.median(timings) * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms, "
          f"worst {max(timings) * 1000:.0f} ms  ({statistics.median(timings) * 1000 / items:.0f} ms per item)")


if __name__ == "__main__":
    main()
