"""The account page: how this person signs in (second factor, recovery codes, remembered phones)
and where they are signed in."""
from flask import flash, request, session, url_for
from flask_login import current_user, login_required

from app import db
from app.account import bp
from app.account.forms import ButtonForm, OneDeviceForm
from app.auth.forms import ChoosePasswordForm, EnrolForm
from app.auth.second_factor import enrol_page
from app.auth.sudo import confirmed_first
from app.models import Team
from app.models.types import utcnow
from app.security import SESSION_TOKEN_KEY
from app.services import auth as auth_service
from app.services import passkeys, two_factor
from app.services.access import NotFound
from app.web import audit, render, see_other


@bp.before_request
@login_required
def signed_in_only():
    pass


def _required() -> bool:
    team = db.session().get(Team, current_user.team_id) if current_user.team_id else None
    return two_factor.required(current_user, team)


@bp.get("")
def index():
    db_session = db.session()
    now = utcnow()
    this_session = auth_service.login_session_id(session.get(SESSION_TOKEN_KEY, ""))
    return render(
        "account/index.html",
        enrolled=two_factor.enrolled(current_user),
        required=_required(),
        codes_left=two_factor.recovery_codes_left(db_session, current_user.id),
        devices=two_factor.trusted_devices(db_session, current_user.id, now=now),
        keys=passkeys.for_user(db_session, current_user.id),
        sessions=auth_service.open_sessions(db_session, current_user.id),
        this_session=this_session,
        button=ButtonForm(),
        one_device=OneDeviceForm(),
    )


@bp.route("/authenticator", methods=["GET", "POST"])
@confirmed_first
def authenticator():
    if two_factor.enrolled(current_user):
        return see_other(url_for("account.index"))
    return enrol_page(current_user, EnrolForm(), on_done=lambda: None)


@bp.post("/recovery-codes")
@confirmed_first
def recovery_codes():
    db_session = db.session()
    if not ButtonForm().validate() or not two_factor.has_second_factor(db_session, current_user):
        raise NotFound
    codes = two_factor.new_recovery_codes(db_session, current_user, now=utcnow())
    audit("second_factor.new_codes", record_type="user", record_id=current_user.id)
    db_session.commit()
    return render("auth/recovery_codes.html", codes=codes, continue_url=None)


@bp.post("/authenticator/off")
@confirmed_first
def turn_off():
    if not ButtonForm().validate() or not two_factor.enrolled(current_user):
        raise NotFound
    if _required():
        flash("Your role or team needs a second factor, so it can't be turned off.", "warn")
        return see_other(url_for("account.index"))
    db_session = db.session()
    two_factor.turn_off(db_session, current_user, now=utcnow())
    audit("second_factor.off", record_type="user", record_id=current_user.id)
    db_session.commit()
    flash("Two-factor sign-in is off.")
    return see_other(url_for("account.index"))


@bp.post("/devices/forget")
def forget_devices():
    form = OneDeviceForm()
    if not form.validate():
        raise NotFound
    db_session = db.session()
    forgotten = two_factor.forget_devices(db_session, current_user.id, now=utcnow(), device_id=form.device.data or None)
    audit("second_factor.forget_devices", record_type="user", record_id=current_user.id, detail=f"devices={forgotten}")
    db_session.commit()
    flash("That phone will ask for a code next time." if form.device.data else "Every phone will ask for a code next time.")
    return see_other(url_for("account.index"))


@bp.route("/password", methods=["GET", "POST"])
@confirmed_first
def change_password():
    """A new password; every other device is signed out (this one stays signed in)."""
    form = ChoosePasswordForm()
    if request.method == "POST" and form.validate():
        problem = auth_service.password_problem(form.password.data, about=(current_user.email, current_user.name))
        if problem:
            form.password.errors = [problem]
        else:
            db_session = db.session()
            current_user.password_hash = auth_service.hash_password(form.password.data)
            keep = auth_service.login_session_id(session.get(SESSION_TOKEN_KEY, ""))
            ended = auth_service.end_other_sessions(db_session, current_user.id, keep=keep, now=utcnow())
            audit("password.change", record_type="user", record_id=current_user.id, detail=f"sessions={ended}")
            db_session.commit()
            flash("Your password has changed. Every other device has been signed out.")
            return see_other(url_for("account.index"))
    return render("account/password.html", form=form, status=422 if request.method == "POST" else 200)


@bp.post("/sessions/end")
def end_session():
    """Sign out one other device (by its stored id), or every other one."""
    form = OneDeviceForm()
    if not form.validate():
        raise NotFound
    db_session = db.session()
    keep = auth_service.login_session_id(session.get(SESSION_TOKEN_KEY, ""))
    ended = auth_service.end_other_sessions(db_session, current_user.id, keep=keep, now=utcnow(),
                                            only=form.device.data or None)
    audit("user.sessions_end_own", record_type="user", record_id=current_user.id, detail=f"sessions={ended}")
    db_session.commit()
    flash("Signed out on that device." if form.device.data else f"Signed out on every other device ({ended}).")
    return see_other(url_for("account.index"))
