"""A phone whose account an admin deactivated, in a real Chromium: at its next contact with the
server it deletes the caseload it kept offline and its outbox."""
from playwright.sync_api import Error, expect

from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_offline import outbox, queue_a_contact_offline, wait_until

KEPT = """async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name),
    pages: (await caches.keys()).includes("fieldline-pages")
        ? (await (await caches.open("fieldline-pages")).keys()).length : 0,
})"""


def test_a_deactivated_accounts_phone_wipes_what_it_kept_at_next_contact(phone, live_server, personas, engine,
                                                                          admin_client):
    worker = personas["worker"]
    page = queue_a_contact_offline(phone, live_server, personas, engine)
    held = page.evaluate(KEPT)
    assert held["pages"] >= 5 and "fieldline-outbox" in held["databases"] and len(outbox(page)) == 1
    page.goto(live_server.url + "/caseload")  # still offline: the kept copy, with the names
    expect(page.get_by_text("Dana Doorstep").first).to_be_visible()

    response = admin_client.post_form(f"/admin/users/{worker.id}", {
        "name": worker.name, "email": worker.email, "role": "worker", "team_id": str(worker.team_id),
        "phone": "07700900111",  # active left unticked
    })
    assert response.status_code == 303

    phone.set_offline(False)
    page.goto(live_server.url + "/")
    page.wait_for_url("**/login")
    wait_until(page, lambda: page.evaluate(KEPT) == {"databases": [], "pages": 0}, message="the wipe")
    expect(page.get_by_text("An administrator has signed this account out.")).to_be_visible()

    phone.set_offline(True)
    try:
        page.goto(live_server.url + "/caseload")
    except Error:  # nothing kept to answer with: the browser's own error page
        pass

    def settled_content():
        try:
            return page.content()
        except Error:  # still switching to the error page
            return None
    wait_until(page, lambda: settled_content() is not None, message="the offline page")
    assert "Dana Doorstep" not in settled_content()

    phone.set_offline(False)
    page.goto(live_server.url + "/login")
    for width in (390, 360):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)


def test_an_admin_signs_a_person_out_everywhere_from_their_page(phone, live_server, personas, worker_client):
    page = phone.new_page()
    sign_in(page, live_server, personas["admin"])
    page.goto(f"{live_server.url}/admin/users/{personas['worker'].id}")
    expect(page.get_by_text("1 open session.")).to_be_visible()
    for width in (390, 360):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("Signed out on every device (1 open).")).to_be_visible()
    expect(page.get_by_text("0 open sessions.")).to_be_visible()
    assert worker_client.get("/").headers.get("Fieldline-Wipe") == "1"
