"""The second step of signing in: a code from the authenticator app (or a recovery code), or, for
an account that must have a second factor and has none yet, setting one up."""
from flask import redirect, request, session, url_for
from flask_login import current_user

from app import db
from app.auth import bp, sign_in
from app.auth.forms import EnrolForm, SecondFactorForm
from app.models.types import utcnow
from app.services import sign_in_limits, two_factor
from app.web import audit, client_ip, render

WRONG = "That code is not right, or it has been used already. Enter the code your app shows now."
WAIT = ("Too many attempts. Wait {wait} before trying again. If you are locked out and need help now, "
        "call your duty supervisor.")
ENROL_SECRET_KEY = "enrol_secret"


def _start_again():
    return redirect(url_for("auth.login"), code=303)


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"), code=303)
    user = sign_in.pending_user()
    if user is None or not two_factor.enrolled(user):
        return _start_again()
    form = SecondFactorForm()
    if request.method == "POST" and form.validate():
        db_session = db.session()
        now = utcnow()
        # Counted like passwords (a separate count per account and address, the address's shared).
        limit_key = "second-factor:" + user.email
        wait = sign_in_limits.begin_attempt(db_session, limit_key, client_ip(), now=now)
        if wait:
            audit("second_factor.throttled", record_type="user", record_id=user.id, actor_id=user.id)
            db_session.commit()
            form.code.errors = [WAIT.format(wait=sign_in_limits.wait_words(wait))]
            response = render("auth/second_factor.html", form=form, status=429)
            response.headers["Retry-After"] = str(max(1, round(wait.total_seconds())))
            return response
        db_session.commit()
        method = two_factor.verify(db_session, user, form.code.data, now=now)
        if method is None:
            audit("second_factor.failure", record_type="user", record_id=user.id, actor_id=user.id)
            db_session.commit()
            form.code.errors = [WRONG]
            return render("auth/second_factor.html", form=form, status=401)
        sign_in_limits.succeeded(db_session, limit_key, client_ip())
        device = None
        if form.remember.data:
            device = two_factor.remember_device(db_session, user, now=now, user_agent=request.user_agent.string)
            audit("second_factor.remember", record_type="user", record_id=user.id, actor_id=user.id)
        response = sign_in.finish(user, session.get(sign_in.PENDING_KEY, {}).get("next"), method=method)
        if device:
            sign_in.set_device_cookie(response, device)
        return response
    status = 422 if request.method == "POST" else 200
    return render("auth/second_factor.html", form=form, status=status)


@bp.route("/login/set-up-second-factor", methods=["GET", "POST"])
def set_up_second_factor():
    """Required but not set up yet: the account sets up its authenticator app before signing in."""
    if current_user.is_authenticated:
        return redirect(url_for("account.authenticator"), code=303)
    user = sign_in.pending_user()
    if user is None:
        return _start_again()
    if two_factor.enrolled(user):
        return redirect(url_for("auth.second_factor"), code=303)
    form = EnrolForm()
    return enrol_page(user, form, on_done=lambda: url_for("auth.finish_set_up"))


@bp.post("/login/set-up-second-factor/done")
def finish_set_up():
    """After the recovery codes were shown: sign in."""
    user = sign_in.pending_user()
    if user is None or not two_factor.enrolled(user):
        return _start_again()
    return sign_in.finish(user, session.get(sign_in.PENDING_KEY, {}).get("next"), method="app")


def enrol_page(user, form: EnrolForm, *, on_done):
    """The set-up page (QR code, the key as text, a code to confirm it), shared with the account
    page. The secret is kept in the signed session until a code proves the app has it; then the ten
    recovery codes are shown, once, in the answer to that POST (they are kept nowhere else)."""
    secret = session.get(ENROL_SECRET_KEY)
    if request.method == "GET" or not secret:
        secret = session[ENROL_SECRET_KEY] = two_factor.new_secret()
    if request.method == "POST" and form.validate():
        db_session = db.session()
        codes = two_factor.enrol(db_session, user, secret, form.code.data, now=utcnow())
        if codes is not None:
            audit("second_factor.enrol", record_type="user", record_id=user.id, actor_id=user.id)
            db_session.commit()
            session.pop(ENROL_SECRET_KEY, None)
            return render("auth/recovery_codes.html", codes=codes, continue_url=on_done())
        form.code.errors = ["That code doesn't match. Check the app shows Fieldline, then enter the code it shows now."]
    uri = two_factor.provisioning_uri(secret, user.email)
    status = 422 if request.method == "POST" else 200
    return render("auth/enrol.html", form=form, qr=two_factor.qr_svg_data_uri(uri),
                  secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), status=status)
