import re
import time
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "app" / "templates"


def _assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_every_page_sends_the_csp_and_no_store(worker_client, admin_client, supervisor_client, client):
    pages = [
        (client, "/login"),
        (admin_client, "/"),
        (admin_client, "/admin/users"),
        (admin_client, "/admin/users/new"),
        (admin_client, "/admin/teams"),
        (admin_client, "/admin/teams/new"),
        (worker_client, "/no-such-page"),
    ]
    for who, path in pages:
        response = who.get(path)
        _assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "Fieldline-Offline" not in response.headers


def test_only_the_pages_needed_at_the_door_may_be_kept_offline(worker_client, supervisor_client):
    """Today, the running visit, my caseload's names and flags, Log contact, Crisis and the outbox:
    `private, no-cache` and marked for the service worker. The full caseload and a person are not."""
    for who, path in [(worker_client, "/"), (worker_client, "/crisis"), (worker_client, "/caseload/offline"),
                      (worker_client, "/contacts/new"), (worker_client, "/outbox"), (supervisor_client, "/")]:
        response = who.get(path)
        _assert_security_headers(response)
        assert response.headers["Cache-Control"] == "private, no-cache", path
        assert response.headers["Fieldline-Offline"] == "keep", path
    from tests.test_caseload import add_person
    person_id = add_person(worker_client)
    for path in ("/caseload", f"/contacts/new?person={person_id}", f"/people/{person_id}", "/settings/notifications"):
        response = worker_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "Fieldline-Offline" not in response.headers, path
    # A fragment is never kept, even of a page that is.
    fragment = worker_client.get("/", headers={"HX-Request": "true"})
    assert "Fieldline-Offline" not in fragment.headers


def test_a_copy_the_service_worker_refreshes_leaves_the_pages_messages_and_cookie_alone(worker_client, engine,
                                                                                        personas):
    # The copies are fetched in the background while the worker may be ending a visit: an answer to
    # a copy that took "Visit ended. Stay safe." or set the cookie it was sent with would lose it.
    from tests.test_safety_web import running, start_visit
    start_visit(worker_client)
    worker_client.get("/")
    visit = running(engine, personas["worker"])
    ended = worker_client.post(f"/visits/{visit.id}/end", data={"csrf_token": worker_client.csrf_token(),
                                                               "idempotency_key": "end-1"})
    assert ended.status_code == 303
    copy = worker_client.get("/", headers={"Fieldline-Copy": "1"})
    text = copy.get_data(as_text=True)
    assert copy.headers["Fieldline-Offline"] == "keep" and "Set-Cookie" not in copy.headers
    assert "Visit ended" not in text and "end-1" not in text
    page = worker_client.get("/")
    text = page.get_data(as_text=True)
    assert "Visit ended. Stay safe." in text and 'data-outbox-answered="end-1"' in text
    assert "Set-Cookie" in page.headers


def test_a_background_request_refreshes_an_unchanged_cookie_only_once_it_is_old(worker_client, monkeypatch):
    from datetime import timedelta

    from app import security
    background = {"Sec-Fetch-Mode": "cors", "HX-Request": "true"}
    assert "Set-Cookie" in worker_client.get("/", headers={"Sec-Fetch-Mode": "navigate"}).headers
    assert "Set-Cookie" not in worker_client.get("/", headers=background).headers
    monkeypatch.setattr(security, "BACKGROUND_REFRESH_AFTER", timedelta(0))
    refreshed = worker_client.get("/", headers=background)
    assert "Set-Cookie" in refreshed.headers and refreshed.status_code == 200  # still signed in
    # A short idle time: refreshed once half of it has gone, before the cookie can lapse.
    monkeypatch.setattr(security, "BACKGROUND_REFRESH_AFTER", timedelta(minutes=10))
    monkeypatch.setattr(worker_client.application, "permanent_session_lifetime", timedelta(seconds=4))
    assert "Set-Cookie" in worker_client.get("/", headers={"Sec-Fetch-Mode": "navigate"}).headers
    time.sleep(2.2)
    late = worker_client.get("/", headers=background)
    assert "Set-Cookie" in late.headers and late.status_code == 200


def test_static_files_are_cached_and_the_service_worker_is_not(client):
    static = client.get("/static/css/app.css")
    _assert_security_headers(static)
    assert "max-age=31536000" in static.headers["Cache-Control"]
    # The document-only headers are not repeated on each file of the shell (its first load is
    # counted in bytes); pages keep them.
    assert not {"X-Frame-Options", "Permissions-Policy", "Expires", "Content-Disposition"} & set(static.headers.keys())
    page = client.get("/login")
    assert page.headers["X-Frame-Options"] == "DENY" and "geolocation" in page.headers["Permissions-Policy"]
    worker = client.get("/sw.js")
    assert worker.headers["Cache-Control"] == "no-cache"
    assert worker.headers["Service-Worker-Allowed"] == "/"


def test_no_inline_script_or_style_in_templates():
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), template
        assert "style=" not in html, template
        assert "<style" not in html, template
        assert not re.search(r"\son[a-z]+=", html), template  # no inline event handlers


def test_unknown_page_is_a_404_in_the_apps_own_look(worker_client):
    response = worker_client.get("/nothing/here")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert "bottom-nav" in response.get_data(as_text=True)


def test_htmx_errors_come_back_as_a_fragment_for_the_message_area(worker_client):
    response = worker_client.get("/nothing/here", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in response.get_data(as_text=True)
