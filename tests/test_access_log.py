"""The Procfile's web process, for real: gunicorn's access log never holds a calendar feed's secret,
and each worker compiles the templates before it answers."""
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from app.db import unit_of_work
from app.gunicorn_config import compile_templates
from app.models import User
from app.services import calendar_feed
from tests.test_cli import _free_port

ROOT = Path(__file__).resolve().parent.parent


def _procfile_command(kind: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {kind} process in the Procfile")


def _get(url: str, **headers) -> int:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
        return response.status


def test_the_web_process_logs_requests_without_the_calendar_secret(app, engine, personas, database_url):
    with unit_of_work(engine) as session:
        token = calendar_feed.new_calendar_token(session.get(User, personas["worker"].id))
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1", "DATABASE_URL": database_url,
           "FIELDLINE_INSTANCE": str(app.instance_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    server = subprocess.Popen(["sh", "-c", "exec " + _procfile_command("web")], env=env, cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert _get(base + "/healthz") == 200
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn never answered"
                time.sleep(0.2)
        feed = f"{base}/calendar/{token}.ics"
        assert _get(feed) == 200  # the real feed, so the address really is the password
        assert _get(base + "/healthz", Referer=feed) == 200
    finally:
        server.terminate()
        log = server.communicate(timeout=20)[0]
    assert token not in log
    assert log.count('"GET /calendar/[secret].ics HTTP/1.1" 200') == 1
    assert '"GET /healthz HTTP/1.1" 200' in log and '"http://127.0.0.1:' in log  # the Referer, redacted
    assert f"127.0.0.1:{port}/calendar/[secret].ics" in log


def test_each_web_worker_compiles_every_template_before_its_first_request(app):
    assert len(app.jinja_env.cache) < 10
    compiled = compile_templates(app)
    on_disk = [path for path in (ROOT / "app" / "templates").rglob("*") if path.is_file()]
    assert compiled == len(on_disk) > 100
    assert len(app.jinja_env.cache) == compiled  # all of them held, none compiled again on first use
