import hashlib

from flask import request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app import db
from app.auth import bp
from app.auth.forms import LoginForm
from app.extensions import limiter
from app.models.types import utcnow
from app.security import SESSION_TOKEN_KEY
from app.services import auth as auth_service
from app.web import audit, client_ip, render, see_other

FAILED = "That email and password don't match an active account. Check them and try again."


def _account_key() -> str:
    return "login-account:" + auth_service.normalise_email(request.form.get("email", ""))[:254]


def _failed(response) -> bool:
    return response.status_code != 303


# Both limits count failed attempts only: per account (slows guessing one person's password)
# and per address (slows trying many accounts). The 6th rapid failure is refused with 429.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_account_key, methods=["POST"], deduct_when=_failed,
               scope="login-account")
@limiter.limit("20 per minute", methods=["POST"], deduct_when=_failed, scope="login-ip")
def login():
    if current_user.is_authenticated:
        return see_other(url_for("home.index"))
    form = LoginForm()
    if request.method == "POST" and form.validate():
        db_session = db.session()
        user = auth_service.authenticate(db_session, form.email.data, form.password.data)
        if user is None:
            audit("login.failure", record_type="user", detail="email=" + _hash_hint(form.email.data))
            db_session.commit()
            form.password.errors = [FAILED]
            return render("auth/login.html", form=form, status=401)
        token = auth_service.start_login_session(
            db_session, user, now=utcnow(), ip=client_ip(), user_agent=request.user_agent.string
        )
        audit("login.success", record_type="user", record_id=user.id, actor_id=user.id)
        db_session.commit()
        next_url = session.pop("next", None)
        session.clear()  # a fresh session (and CSRF token) for the signed-in user
        session[SESSION_TOKEN_KEY] = token
        session.permanent = True
        login_user(user)
        return see_other(next_url if _is_local(next_url) else url_for("home.index"))
    status = 422 if request.method == "POST" else 200
    return render("auth/login.html", form=form, status=status)


@bp.post("/logout")
@login_required
def logout():
    db_session = db.session()
    token = session.get(SESSION_TOKEN_KEY)
    if token:
        auth_service.end_login_session(db_session, token, now=utcnow())
    audit("logout", record_type="user", record_id=current_user.id)
    db_session.commit()
    logout_user()
    session.clear()
    response = see_other(url_for("auth.login", signed_out=1))
    # The browser drops this site's caches and storage too (the service worker does the same).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


def _is_local(url: str | None) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")


def _hash_hint(email: str) -> str:
    # The audit trail records that a login failed for an address without storing the address
    # as typed (it may be someone's password typed in the wrong box).
    return hashlib.sha256(auth_service.normalise_email(email).encode()).hexdigest()[:16]
