"""Sign-in plumbing for flask-login and the security headers on every response."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Flask, g, jsonify, make_response, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from app import db
from app.extensions import htmx, login_manager
from app.models.types import utcnow
from app.services import auth as auth_service
from app.web import keeping_copy

SESSION_TOKEN_KEY = "sid"
# On every answer to a phone whose session was ended by deactivation or an admin: the service
# worker and offline.js delete the caches and the outbox when they see it (Clear-Site-Data does the
# same where the browser applies it). Sent until someone signs in on that phone again.
WIPE_HEADER = "Fieldline-Wipe"


# A request the page or the service worker makes in the background (htmx, the outbox) refreshes an
# unchanged cookie at most this often: its answer carries the cookie it was sent with, and landing
# after a form's answer it would put that back, losing the form's "Visit ended. Stay safe.".
BACKGROUND_REFRESH_AFTER = timedelta(minutes=10)


class SessionCookie(SecureCookieSessionInterface):
    """Every page the worker opens refreshes the cookie, for the idle timeout. Copies the service
    worker refreshes in the background never refresh an unchanged one, and other background
    requests only once it is BACKGROUND_REFRESH_AFTER (or half the idle time) old, so a board left
    open on its polls stays signed in. A request that changed the session always sets it."""

    def open_session(self, app: Flask, request):
        serializer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if serializer is None or not value:
            return super().open_session(app, request)
        try:
            data, issued = serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()),
                                            return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.issued_at = issued
        return session

    def should_set_cookie(self, app: Flask, session) -> bool:
        if session.modified:
            return True
        if keeping_copy():
            return False
        if request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate":
            issued = getattr(session, "issued_at", None)
            # Well within the idle time, however short it is set (FIELDLINE_SESSION_IDLE_MINUTES).
            every = min(BACKGROUND_REFRESH_AFTER, app.permanent_session_lifetime / 2)
            if issued is not None and datetime.now(timezone.utc) - issued < every:
                return False
        return super().should_set_cookie(app, session)


def register_security(app: Flask) -> None:
    settings = app.extensions["fieldline.settings"]
    app.session_interface = SessionCookie()
    from app import CONTENT_SECURITY_POLICY

    @login_manager.user_loader
    def load_user(user_id: str):
        token = session.get(SESSION_TOKEN_KEY)
        if not token or not user_id.isdigit():
            return None
        db_session = db.session()
        own_transaction = not db_session.in_transaction()
        if own_transaction:
            # A short transaction of its own that starts as a read, so that on SQLite the write
            # lock is taken by the view's work, not held from the first line of every request.
            db_session.connection(execution_options={db.READS_FIRST: True})
        found = auth_service.resume_login_session(
            db_session,
            token,
            int(user_id),
            now=utcnow(),
            idle=app.permanent_session_lifetime,
        )
        user = None
        if found is not None:
            user, g.own_team = found  # web.own_team() needs no query of its own
        if user is None and auth_service.must_wipe(db_session, token):
            g.wipe_token = token
        # Also persists an idle expiry or a touched last_seen_at (at most once a minute per device).
        if own_transaction or db_session.dirty:
            db_session.commit()
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("auth.login")
        if htmx:
            response = make_response("", 401)
            response.headers["HX-Redirect"] = login_url
            return response
        if request.accept_mimetypes.best == "application/json" or request.is_json:
            return jsonify(error="signed_out", login=login_url), 401
        if request.method == "GET":
            # Kept in the session, not the URL: no record ids in links that get shared.
            session["next"] = request.full_path if request.query_string else request.path
        return redirect(login_url, code=303)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if g.get("wipe_token") and session.get(SESSION_TOKEN_KEY) == g.wipe_token:
            headers["Clear-Site-Data"] = '"cache", "storage"'
            headers[WIPE_HEADER] = "1"
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint == "static":
            # Scripts, styles and icons: the document headers below govern the page that loads
            # them, not them (the CSP stays: an SVG opened on its own is a document). Cache-Control
            # already says what Expires does. Every byte here is paid again on each file of the
            # shell's first load.
            for name in ("Expires", "Content-Disposition"):
                headers.pop(name, None)
        else:
            headers.setdefault("X-Frame-Options", "DENY")
            headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
        if settings.secure_cookies:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Personal data must not sit in any cache: everything dynamic is no-store unless the
        # view chose otherwise (static files, the service worker and the manifest do).
        if request.endpoint != "static" and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response
