"""The second step of signing in: a code from the authenticator app (or a recovery code), or, for
an account that must have a second factor and has none yet, setting one up."""
from flask import current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from app import db
from app.auth import bp, sign_in
from app.auth.forms import EnrolForm, SecondFactorForm
from app.models.types import utcnow
from app.services import passkeys, sign_in_limits, two_factor
from app.web import audit, client_ip, render

WRONG = "That code is not right, or it has been used already. Enter the code your app shows now."
WAIT = ("Too many attempts. Wait {wait} before trying again. If you are locked out and need help now, "
        "call your duty supervisor.")
ENROL_SECRET_KEY = "enrol_secret"


def _start_again():
    return redirect(url_for("auth.login"), code=303)


def _limit_key(user) -> str:
    # Counted like passwords (a separate count per account and address, the address's shared).
    return "second-factor:" + user.email


def _wait(db_session, user, now):
    """How long this account must wait from this address before another code is checked."""
    wait = sign_in_limits.begin_attempt(db_session, _limit_key(user), client_ip(), now=now)
    if wait:
        audit("second_factor.throttled", record_type="user", record_id=user.id, actor_id=user.id)
    db_session.commit()
    return wait


def _signed_in(db_session, user, method: str, *, remember: bool, now):
    """The second factor was right: sign in (and remember this phone if asked)."""
    sign_in_limits.succeeded(db_session, _limit_key(user), client_ip())
    device = None
    if remember:
        device = two_factor.remember_device(db_session, user, now=now, user_agent=request.user_agent.string)
        audit("second_factor.remember", record_type="user", record_id=user.id, actor_id=user.id)
    response = sign_in.finish(user, session.get(sign_in.PENDING_KEY, {}).get("next"), method=method)
    if device:
        sign_in.set_device_cookie(response, device)
    return response


def _page(user, form, status=200):
    db_session = db.session()
    return render("auth/second_factor.html", form=form, has_app=two_factor.enrolled(user),
                  has_passkeys=bool(passkeys.for_user(db_session, user.id)), status=status)


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"), code=303)
    user = sign_in.pending_user()
    db_session = db.session()
    if user is None or not two_factor.has_second_factor(db_session, user):
        return _start_again()
    form = SecondFactorForm()
    if request.method == "POST" and form.validate():
        now = utcnow()
        wait = _wait(db_session, user, now)
        if wait:
            form.code.errors = [WAIT.format(wait=sign_in_limits.wait_words(wait))]
            response = _page(user, form, status=429)
            response.headers["Retry-After"] = str(max(1, round(wait.total_seconds())))
            return response
        method = two_factor.verify(db_session, user, form.code.data, now=now)
        if method is None:
            audit("second_factor.failure", record_type="user", record_id=user.id, actor_id=user.id)
            db_session.commit()
            form.code.errors = [WRONG]
            return _page(user, form, status=401)
        return _signed_in(db_session, user, method, remember=form.remember.data, now=now)
    return _page(user, form, status=422 if request.method == "POST" else 200)


@bp.post("/login/second-factor/passkey/options")
def passkey_options():
    user = sign_in.pending_user()
    if user is None or current_user.is_authenticated:
        return jsonify(error="Sign in with your password first."), 401
    options, challenge = passkeys.authentication_options(db.session(), user, sign_in.webauthn_site())
    sign_in.keep_challenge(challenge)
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/login/second-factor/passkey")
def passkey_sign_in():
    """The authenticator's signed answer (JSON); answers where to go next, as JSON."""
    user = sign_in.pending_user()
    if user is None or current_user.is_authenticated:
        return jsonify(error="Sign in with your password first."), 401
    db_session = db.session()
    now = utcnow()
    challenge = sign_in.take_challenge()
    wait = _wait(db_session, user, now)
    if wait:
        response = jsonify(error=WAIT.format(wait=sign_in_limits.wait_words(wait)))
        response.status_code = 429
        response.headers["Retry-After"] = str(max(1, round(wait.total_seconds())))
        return response
    body = request.get_json(silent=True) or {}
    key = passkeys.authenticate(db_session, user, body.get("credential"), challenge, sign_in.webauthn_site(),
                                now=now) if challenge and isinstance(body.get("credential"), dict) else None
    if key is None:
        audit("second_factor.failure", record_type="user", record_id=user.id, actor_id=user.id, detail="passkey")
        db_session.commit()
        return jsonify(error="That passkey was not accepted. Try again, or enter a code."), 401
    redirect_to = _signed_in(db_session, user, "passkey", remember=body.get("remember") is True, now=now)
    response = jsonify(next=redirect_to.headers.get("Location") or redirect_to.headers.get("HX-Redirect"))
    for cookie in redirect_to.headers.getlist("Set-Cookie"):
        response.headers.add("Set-Cookie", cookie)
    return response


@bp.route("/login/set-up-second-factor", methods=["GET", "POST"])
def set_up_second_factor():
    """Required but not set up yet: the account sets up its authenticator app before signing in."""
    if current_user.is_authenticated:
        return redirect(url_for("account.authenticator"), code=303)
    user = sign_in.pending_user()
    if user is None:
        return _start_again()
    if two_factor.has_second_factor(db.session(), user):
        return redirect(url_for("auth.second_factor"), code=303)
    form = EnrolForm()
    return enrol_page(user, form, on_done=lambda: url_for("auth.finish_set_up"))


@bp.post("/login/set-up-second-factor/done")
def finish_set_up():
    """After the recovery codes were shown: sign in."""
    user = sign_in.pending_user()
    if user is None or not two_factor.has_second_factor(db.session(), user):
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
