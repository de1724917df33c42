"""Confirm it's you: a sensitive change (password, second factors, PINs, the calendar feed's
address, an admin changing someone's role) needs the password (and the app's code, when one is
set up) given in the last 10 minutes. Signing in counts as giving them."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import flash, jsonify, request, session, url_for
from flask_login import current_user, login_required

from app import db
from app.auth import bp, sign_in
from app.auth.forms import ConfirmForm
from app.models.types import utcnow
from app.services import auth as auth_service
from app.services import sign_in_limits, two_factor
from app.web import audit, client_ip, render, see_other

CONFIRMED_KEY = sign_in.CONFIRMED_KEY
CONFIRM_NEXT_KEY = "confirm_next"
VALID_FOR = timedelta(minutes=10)
WRONG = "That doesn't match. Check your password (and the code, if asked) and try again."


def mark_confirmed() -> None:
    session[CONFIRMED_KEY] = utcnow().timestamp()


def recently_confirmed() -> bool:
    at = session.get(CONFIRMED_KEY)
    return isinstance(at, (int, float)) and 0 <= utcnow().timestamp() - at <= VALID_FOR.total_seconds()


def ask_to_confirm(back_to: str):
    """Send the person to confirm it's them, then back to `back_to` (a page, never a POST replayed)."""
    session[CONFIRM_NEXT_KEY] = back_to if sign_in.is_local(back_to) else url_for("account.index")
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(error="Confirm it's you first.", confirm=url_for("auth.confirm")), 403
    if request.method == "POST":
        flash("For your safety, confirm it's you, then make the change again.", "warn")
    return see_other(url_for("auth.confirm"))


def confirmed_first(view):
    """For views that are sensitive whatever they are sent."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not recently_confirmed():
            back = request.path if request.method == "GET" else _referring_page()
            return ask_to_confirm(back)
        return view(*args, **kwargs)

    return wrapper


def _referring_page() -> str:
    from urllib.parse import urlsplit

    referrer = urlsplit(request.referrer or "")
    same_site = referrer.netloc in ("", request.host)
    return referrer.path if same_site and referrer.path else url_for("account.index")


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    db_session = db.session()
    asks_code = two_factor.enrolled(current_user)
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        now = utcnow()
        wait = sign_in_limits.begin_attempt(db_session, "confirm:" + current_user.email, client_ip(), now=now)
        db_session.commit()
        if wait:
            form.password.errors = [f"Too many attempts. Wait {sign_in_limits.wait_words(wait)} and try again."]
            return render("auth/confirm.html", form=form, asks_code=asks_code, status=429)
        good = auth_service.authenticate(db_session, current_user.email, form.password.data or "") is not None
        if good and asks_code:
            good = two_factor.verify(db_session, current_user, form.code.data or "", now=now) is not None
        if not good:
            audit("reauth.failure", record_type="user", record_id=current_user.id)
            db_session.commit()
            form.password.errors = [WRONG]
            return render("auth/confirm.html", form=form, asks_code=asks_code, status=401)
        sign_in_limits.succeeded(db_session, "confirm:" + current_user.email, client_ip())
        audit("reauth.success", record_type="user", record_id=current_user.id)
        db_session.commit()
        mark_confirmed()
        return see_other(session.pop(CONFIRM_NEXT_KEY, None) or url_for("account.index"))
    status = 422 if request.method == "POST" else 200
    return render("auth/confirm.html", form=form, asks_code=asks_code, status=status)



