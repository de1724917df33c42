"""Real Chromium through Playwright against the app served over real HTTP on 127.0.0.1.

The browser is found on its own (FIELDLINE_CHROMIUM, Debian's /usr/bin/chromium, or Playwright's
own download on a laptop). Without one the browser tests skip with the reason, except when
FIELDLINE_REQUIRE_BROWSER=1 (set by .ci/run), where a missing browser fails the run.
"""
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SCREENSHOTS = Path(__file__).parent / "screenshots"


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("FIELDLINE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


# On PostgreSQL the browser flows whose outcome depends on the database run again: the outbox
# replaying into idempotent writes, double taps racing, the real worker's alarm reaching the board,
# Crisis, and the offline group register. The rest (layout, axe, page flows) is the same on either
# database and runs on SQLite only, which keeps CI's two runs inside its time.
ON_BOTH_DATABASES = {"test_offline.py", "test_double_tap.py", "test_safety.py", "test_crisis.py", "test_groups.py"}


def pytest_collection_modifyitems(items):
    from tests.conftest import USE_PG

    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if USE_PG and Path(str(item.fspath)).name not in ON_BOTH_DATABASES:
                item.add_marker(pytest.mark.skip(reason="a browser flow the database does not change: run on SQLite"))


@pytest.fixture(scope="session")
def browser():
    required = os.environ.get("FIELDLINE_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("Playwright is not installed but browser tests are required")
        pytest.skip("Playwright is not installed")
    playwright = sync_playwright().start()
    executable = _chromium_path()
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as error:  # no Debian chromium and no Playwright download
        playwright.stop()
        if required:
            pytest.fail(f"No Chromium could be started ({error}); browser tests are required here")
        pytest.skip(f"No Chromium available: install Debian's chromium or set FIELDLINE_CHROMIUM ({error})")
    yield browser
    browser.close()
    playwright.stop()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context (its own storage, service workers and cookies)."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def sign_in(page, server, persona):
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(persona.email)
    page.get_by_label("Password").fill(persona.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/")


def assert_accessible(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in serious
    )
