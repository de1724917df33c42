"""The pages whose words were made true, checked with axe on a 360 px and a 390 px phone."""
import pytest

from app.db import unit_of_work
from app.models import Alert
from tests.e2e.conftest import PHONE, assert_accessible, sign_in
from tests.e2e.test_caseload import _person


@pytest.mark.parametrize("width, height", [(360, 740), (390, 844)])
def test_the_changed_pages_are_accessible_on_small_phones(browser, live_server, personas, engine, width, height):
    _person(engine, personas["worker"], "Dana Doorstep")
    with unit_of_work(engine) as session:
        alert = Alert(team_id=personas["worker"].team_id, worker_id=personas["worker"].id, kind="panic", level=3)
        session.add(alert)
        session.flush()
        alert_id = alert.id
    context = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": height}})
    try:
        page = context.new_page()
        sign_in(page, live_server, personas["worker"])
        for path in ("/crisis", f"/crisis/alarms/{alert_id}", "/settings/calendar"):
            page.goto(live_server.url + path)
            assert_accessible(page)
        admin = context.new_page()
        context.clear_cookies()
        sign_in(admin, live_server, personas["admin"])
        admin.goto(live_server.url + "/admin/users/new")
        assert_accessible(admin)
        assert admin.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
