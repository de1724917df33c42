"""Failed sign-ins: the waits as a table, then the limit across the Procfile's two gunicorn workers."""
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests

from app.services.sign_in_limits import address_wait, pair_wait
from tests.helpers import PASSWORD
from tests.test_access_log import ROOT, _procfile_command
from tests.test_cli import _free_port

T = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
S = timedelta(seconds=1)


@pytest.mark.parametrize("failures,last_ago,wait", [
    (0, 0 * S, 0 * S), (4, 0 * S, 0 * S),              # typos cost nothing
    (5, 0 * S, 30 * S), (5, 10 * S, 20 * S), (5, 30 * S, 0 * S),
    (6, 0 * S, 60 * S), (7, 0 * S, 120 * S), (9, 100 * S, 380 * S),  # each failure doubles the wait
    (40, 0 * S, 3600 * S), (10_000, 0 * S, 3600 * S),  # at most an hour
])
def test_an_account_waits_longer_after_each_failure_from_one_address(failures, last_ago, wait):
    assert pair_wait(failures, T - last_ago, T) == wait


@pytest.mark.parametrize("failures,started_ago,wait", [
    (49, 0 * S, 0 * S), (50, 0 * S, 900 * S), (50, 600 * S, 300 * S), (500, 900 * S, 0 * S),
])
def test_an_address_may_fail_fifty_times_in_fifteen_minutes(failures, started_ago, wait):
    assert address_wait(failures, T - started_ago, T) == wait


def _attempt(base, address, email, password):
    with requests.Session() as browser:
        form = browser.get(base + "/login", headers={"X-Forwarded-For": address}, timeout=30).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        answer = browser.post(base + "/login", data={"email": email, "password": password, "csrf_token": token},
                              headers={"X-Forwarded-For": address}, allow_redirects=False, timeout=30)
        return answer.status_code


def test_the_limit_holds_across_gunicorn_workers_and_never_locks_the_real_user_out(app, personas, database_url):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "2", "DATABASE_URL": database_url,
           "FIELDLINE_INSTANCE": str(app.instance_path), "FIELDLINE_PROXY_COUNT": "1",
           "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    server = subprocess.Popen(["sh", "-c", "exec " + _procfile_command("web")], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    email = personas["worker"].email
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/healthz", timeout=10)
                break
            except requests.RequestException:  # not listening yet, or its workers still starting
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn never answered"
                time.sleep(0.2)
        # The attacker sends 24 wrong passwords at once to both workers, all from one address; in the
        # middle of it the real user signs in from their own.
        tries = [("203.0.113.9", f"wrong guess {n}") for n in range(24)]
        tries.insert(12, ("198.51.100.7", PASSWORD))
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda sent: _attempt(base, sent[0], email, sent[1]), tries))
        assert answers.pop(12) == 303
        assert sorted(answers) == [401] * 5 + [429] * 19  # exactly five of the attacker's were checked
        assert _attempt(base, "203.0.113.9", email, PASSWORD) == 429  # not even the right one is checked now
        assert _attempt(base, "198.51.100.7", email, PASSWORD) == 303
    finally:
        server.terminate()
        server.wait(timeout=20)
