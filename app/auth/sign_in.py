"""The steps of signing in that the password page and the second-factor pages share: the
half-signed-in state between them, the remembered-phone cookie, and starting the session."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, request, session, url_for
from flask_login import login_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app import db
from app.models import Team, User
from app.models.types import utcnow
from app.security import SESSION_TOKEN_KEY
from app.services import auth as auth_service
from app.services import two_factor
from app.web import audit, client_ip, see_other

PENDING_KEY = "pending_sign_in"
# The password was right this long ago at most, or the second factor must follow a new sign-in.
PENDING_FOR = timedelta(minutes=10)
DEVICE_COOKIE = "fieldline_device"
CONFIRMED_KEY = "confirmed_at"  # see auth/sudo.py


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="fieldline.trusted-device")


def device_token() -> str | None:
    """The remembered-phone token from its signed cookie (None when absent, forged or too old)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        return _device_signer().loads(raw, max_age=int(two_factor.TRUSTED_FOR.total_seconds()))
    except BadSignature:
        return None


def set_device_cookie(response, token: str) -> None:
    settings = current_app.extensions["fieldline.settings"]
    response.set_cookie(DEVICE_COOKIE, _device_signer().dumps(token), max_age=int(two_factor.TRUSTED_FOR.total_seconds()),
                        httponly=True, secure=settings.secure_cookies, samesite="Lax")


def after_password(user: User, next_url: str | None):
    """The password was right: sign in, or ask for the second factor (or to set one up) first."""
    db_session = db.session()
    team = db_session.get(Team, user.team_id) if user.team_id else None
    has_one = needs_code = two_factor.has_second_factor(db_session, user)
    if needs_code and two_factor.device_trusted(db_session, user, device_token(), now=utcnow()):
        audit("second_factor.remembered", record_type="user", record_id=user.id, actor_id=user.id)
        needs_code = False
    if not needs_code and not (two_factor.required(user, team) and not has_one):
        return finish(user, next_url)
    db_session.commit()
    session.clear()
    session[PENDING_KEY] = {"user": user.id, "at": utcnow().timestamp(), "next": next_url}
    return see_other(url_for("auth.second_factor" if needs_code else "auth.set_up_second_factor"))


def pending_user() -> User | None:
    """The account whose password was given here a moment ago (not yet signed in), if any."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or utcnow().timestamp() - pending.get("at", 0) > PENDING_FOR.total_seconds():
        return None
    user = db.session().get(User, pending.get("user"))
    return user if user is not None and user.active else None


def finish(user: User, next_url: str | None, *, method: str = "password"):
    """Start the signed-in session (a fresh one, with a fresh CSRF token) and go on."""
    db_session = db.session()
    token = auth_service.start_login_session(
        db_session, user, now=utcnow(), ip=client_ip(), user_agent=request.user_agent.string
    )
    audit("login.success", record_type="user", record_id=user.id, actor_id=user.id,
          detail=None if method == "password" else f"second_factor={method}")
    db_session.commit()
    session.clear()
    session[SESSION_TOKEN_KEY] = token
    session[CONFIRMED_KEY] = utcnow().timestamp()  # just signed in: no need to confirm it's them again yet
    session.permanent = True
    login_user(user)
    return see_other(next_url if is_local(next_url) else url_for("home.index"))


def is_local(url: str | None) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")


def webauthn_site():
    """The relying party a passkey signs for: this site's host and origin (FIELDLINE_BASE_URL when set)."""
    from urllib.parse import urlsplit

    from app.services.passkeys import Site

    base = current_app.extensions["fieldline.settings"].base_url or request.host_url.rstrip("/")
    parts = urlsplit(base)
    return Site(rp_id=parts.hostname, origin=f"{parts.scheme}://{parts.netloc}")


CHALLENGE_KEY = "webauthn_challenge"


def keep_challenge(challenge: bytes) -> None:
    from webauthn.helpers import bytes_to_base64url

    session[CHALLENGE_KEY] = bytes_to_base64url(challenge)


def take_challenge() -> bytes | None:
    """The challenge made for this browser, once (a signed answer can't be sent twice)."""
    from webauthn.helpers import base64url_to_bytes

    kept = session.pop(CHALLENGE_KEY, None)
    return base64url_to_bytes(kept) if kept else None
