"""Accounts in a real Chromium: an admin invites a supervisor, who follows the emailed link (a
real SMTP server), chooses a password, sets up an authenticator app, signs out and back in with
a code. axe checks each new page at 390 and 360 px."""
import re

import pyotp

from app.models.types import utcnow
from tests.e2e.conftest import assert_accessible, sign_in
from tests.test_account_links import app, mailbox  # noqa: F401  (the app that mails to the SMTP server)

PASSWORD = "lantern orchard velvet ninety"


def _accessible_at_both_widths(page):
    for width in (390, 360):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)


def _code(secret, steps=0):
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(utcnow()) + steps)


def test_an_invited_supervisor_sets_a_password_and_an_authenticator_and_signs_in_with_a_code(
        browser, phone, live_server, personas, mailbox):  # noqa: F811
    from tests.e2e.conftest import PHONE

    admin = phone.new_page()
    sign_in(admin, live_server, personas["admin"])
    admin.goto(live_server.url + "/admin/users/new")
    admin.get_by_label("Full name").fill("Nia New")
    admin.get_by_label("Email").fill("nia@a.example")
    admin.get_by_label("Role").select_option("supervisor")
    admin.get_by_label("Team").select_option(label="Team A")
    admin.get_by_role("button", name="Add user").click()
    admin.get_by_text("Emailed an invitation to nia@a.example").wait_for()

    recipients, message = mailbox.messages[-1]
    assert recipients == ["nia@a.example"]
    link = re.search(r"http://\S+/password/link/\S+", message.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(live_server.url)

    # WebAuthn needs a domain, not an IP address: the supervisor's phone opens the site as localhost.
    site = live_server.url.replace("127.0.0.1", "localhost")
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(link.replace(live_server.url, site))
        page.wait_for_url(site + "/password/new")  # the token is not left in the address bar
        _accessible_at_both_widths(page)
        page.get_by_label("New password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(site + "/login/set-up-second-factor")
        _accessible_at_both_widths(page)
        secret = page.locator("[data-totp-key]").inner_text().replace(" ", "")
        page.get_by_label("The 6-digit code your app shows now").fill(_code(secret))
        page.get_by_role("button", name="Turn on").click()
        assert page.locator("[data-recovery-code]").count() == 10
        _accessible_at_both_widths(page)
        page.get_by_role("button", name="I've kept them: continue").click()
        page.wait_for_url(site + "/")

        page.get_by_text("Menu").click()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login?signed_out=1")
        page.get_by_label("Email").fill("nia@a.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(site + "/login/second-factor")
        _accessible_at_both_widths(page)
        # The code that set the app up can't be used again: the next one (the phone a little ahead).
        page.get_by_label("Code from your authenticator app").fill(_code(secret, steps=1))
        page.get_by_role("button", name="Sign in with the code").click()
        page.wait_for_url(site + "/")
        assert "Nia New" in page.locator(".menu__who").text_content()

        # A passkey, made and used by Chromium's DevTools virtual authenticator through passkeys.js.
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True}})
        page.goto(site + "/account")
        page.get_by_role("button", name="Add a passkey or security key").click()
        page.get_by_text("Signing in now asks for it").wait_for()
        _accessible_at_both_widths(page)
        page.get_by_text("Menu").click()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login?signed_out=1")
        page.get_by_label("Email").fill("nia@a.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(site + "/login/second-factor")
        page.get_by_role("button", name="Use a passkey or security key").click()
        page.wait_for_url(site + "/")
        for path in ("/confirm", "/password/forgot"):  # the other new pages
            page.goto(site + path)
            _accessible_at_both_widths(page)
    finally:
        context.close()
