"""First load of the logged-in home page in a real Chromium: bytes on the wire, by resource.

Budget: under 60 KB compressed for the app shell. Run: .venv/bin/python bench/page_weight.py
"""
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.db import unit_of_work, upgrade  # noqa: E402
from app.services.demo import seed_demo  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS, PHONE, _chromium_path  # noqa: E402

BUDGET = 60 * 1024


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"FIELDLINE_INSTANCE": instance})
        engine = app.extensions["fieldline.engine"]
        upgrade(engine)
        with unit_of_work(engine) as session:
            seed_demo(session, password="bench password 1")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
            # Sign in with one context, then load home in a fresh one (empty HTTP cache) with the cookie.
            signin = browser.new_context(**PHONE)
            page = signin.new_page()
            page.goto(base + "/login")
            page.get_by_label("Email").fill("worker@example.org")
            page.get_by_label("Password").fill("bench password 1")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/")
            state = signin.storage_state()
            signin.close()

            context = browser.new_context(**PHONE, storage_state=state, service_workers="block")
            page = context.new_page()
            requests = []
            page.on("requestfinished", lambda request: requests.append(request))
            page.goto(base + "/", wait_until="networkidle")
            rows = []
            for request in requests:
                sizes = request.sizes()
                response = request.response()
                encoding = response.header_value("content-encoding") if response else None
                rows.append((sizes["responseBodySize"] + sizes["responseHeadersSize"],
                             request.url.replace(base, ""), encoding or "identity"))
            browser.close()
        server.shutdown()

    total = sum(size for size, _, _ in rows)
    print(f"{'bytes':>8}  {'encoding':<9} resource")
    for size, url, encoding in sorted(rows, reverse=True):
        print(f"{size:>8}  {encoding:<9} {url.split('?')[0]}")
    print(f"{total:>8}  total on the wire (headers + bodies), {len(rows)} requests")
    print(f"budget {BUDGET} bytes: {'within' if total < BUDGET else 'OVER'} ({total / BUDGET:.0%})")


if __name__ == "__main__":
    main()
