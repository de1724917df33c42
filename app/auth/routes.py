import hashlib

from flask import request, session, url_for
from flask_login import current_user, login_required, logout_user

from app import db
from app.auth import bp, sign_in
from app.auth.forms import LoginForm
from app.models.types import utcnow
from app.security import SESSION_TOKEN_KEY
from app.services import auth as auth_service
from app.services import sign_in_limits
from app.web import audit, client_ip, render, see_other

FAILED = "That email and password don't match an active account. Check them and try again."
WAIT = ("Too many attempts. Wait {wait} before trying again. If you are locked out and need help now, "
        "call your duty supervisor.")


# Failed sign-ins are limited in the database (services/sign_in_limits.py), not by flask-limiter:
# its counts live in each process (memory://) unless Redis is set up, and must agree everywhere.
@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return see_other(url_for("home.index"))
    form = LoginForm()
    if request.method == "POST" and form.validate():
        db_session = db.session()
        wait = sign_in_limits.begin_attempt(db_session, form.email.data, client_ip(), now=utcnow())
        if wait:
            audit("login.throttled", record_type="user", detail="email=" + _hash_hint(form.email.data))
            db_session.commit()
            form.password.errors = [WAIT.format(wait=sign_in_limits.wait_words(wait))]
            response = render("auth/login.html", form=form, status=429)
            response.headers["Retry-After"] = str(max(1, round(wait.total_seconds())))
            return response
        db_session.commit()  # counted before the (slow) password check, and the row lock let go
        # The check itself only reads: on SQLite it must not hold the one write lock check-ins wait for.
        db_session.connection(execution_options={db.READS_FIRST: True})
        user = auth_service.authenticate(db_session, form.email.data, form.password.data)
        if user is None:
            audit("login.failure", record_type="user", detail="email=" + _hash_hint(form.email.data))
            db_session.commit()
            form.password.errors = [FAILED]
            return render("auth/login.html", form=form, status=401)
        sign_in_limits.succeeded(db_session, form.email.data, client_ip())
        return sign_in.after_password(user, session.pop("next", None))
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


def _hash_hint(email: str) -> str:
    # The audit trail records that a login failed for an address without storing the address
    # as typed (it may be someone's password typed in the wrong box).
    return hashlib.sha256(auth_service.normalise_email(email).encode()).hexdigest()[:16]
