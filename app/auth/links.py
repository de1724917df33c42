"""Pages behind the emailed links: asking for a password reset, and choosing a password from an
invitation or a reset link."""
import logging
import threading
from typing import Callable

from flask import current_app, flash, request, session, url_for
from flask_login import current_user

from app import db
from app.auth import bp, sign_in
from app.auth.forms import ChoosePasswordForm, ForgotForm
from app.models import User
from app.models.types import utcnow
from app.services import ValidationError, account_links, channels, sign_in_limits
from app.web import audit, client_ip, render, see_other, show_errors

log = logging.getLogger(__name__)
LINK_KEY = "link_token"
WAIT = "Too many requests from here. Wait {wait} before asking again."


def _link_email(user: User, purpose: str) -> Callable[[], channels.SendResult]:
    """Issue a link for this account; returns what emails it, to call once the token is committed."""
    from app.worker import channel_config

    settings = current_app.extensions["fieldline.settings"]
    token = account_links.issue(db.session(), user, purpose, now=utcnow())
    base = settings.base_url or request.host_url.rstrip("/")
    link = base + url_for("auth.open_link", token=token)
    subject, text, html = account_links.message(purpose, name=user.name, link=link, team_words="")
    config, to = channel_config(settings), user.email
    return lambda: channels.send_email(config, to=to, subject=subject, text=text, html=html)


def send_link(user: User, purpose: str) -> channels.SendResult:
    """Issue a link for this account and email it now (an admin's invitation: the admin is told
    whether it went; the caller commits)."""
    return _link_email(user, purpose)()


def _send_unseen(send: Callable[[], channels.SendResult]) -> None:
    """Send after the answer: how long a mail server takes must not tell anyone that an address
    has an account. A failure is logged without the address (the person can ask again)."""
    def run() -> None:
        try:
            result = send()
        except Exception:  # a thread of its own: nothing above it would log this
            log.exception("a password reset email could not be sent")
            return
        if result.outcome != channels.SENT:
            log.warning("a password reset email was not sent: %s", result.detail)

    threading.Thread(target=run, name="fieldline-reset-email", daemon=True).start()


def send_notice(user: User, kind: str) -> channels.SendResult:
    """Tell the account's owner about a change made to it by someone else."""
    from app.worker import channel_config

    settings = current_app.extensions["fieldline.settings"]
    subject, text, html = account_links.notice(kind, name=user.name)
    return channels.send_email(channel_config(settings), to=user.email, subject=subject, text=text, html=html)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """The same answer whether or not an account uses the address (no way to test who has one)."""
    form = ForgotForm()
    if request.method == "POST" and form.validate():
        db_session = db.session()
        wait = sign_in_limits.begin_attempt(db_session, "reset:" + form.email.data, client_ip(), now=utcnow())
        db_session.commit()
        if wait:
            form.email.errors = [WAIT.format(wait=sign_in_limits.wait_words(wait))]
            response = render("auth/forgot.html", form=form, sent=False, status=429)
            response.headers["Retry-After"] = str(max(1, round(wait.total_seconds())))
            return response
        user = account_links.user_for_reset(db_session, form.email.data)
        if user is not None:
            send = _link_email(user, "reset")
            audit("password.reset_request", record_type="user", record_id=user.id, actor_id=user.id)
            db_session.commit()
            _send_unseen(send)
        return see_other(url_for("auth.forgot_password", sent=1))
    status = 422 if request.method == "POST" else 200
    return render("auth/forgot.html", form=form, sent=bool(request.args.get("sent")), status=status)


@bp.get("/password/link/<token>")
def open_link(token: str):
    """The emailed link: its token moves into the session at once, so it is not left in the
    address bar, the history or a Referer."""
    if account_links.find(db.session(), token, now=utcnow()) is None:
        return render("auth/link_spent.html", status=410)
    session[LINK_KEY] = token
    return see_other(url_for("auth.choose_password"))


@bp.route("/password/new", methods=["GET", "POST"])
def choose_password():
    token = session.get(LINK_KEY)
    db_session = db.session()
    found = account_links.find(db_session, token, now=utcnow()) if token else None
    if found is None:
        return render("auth/link_spent.html", status=410)
    link, user = found
    form = ChoosePasswordForm()
    if request.method == "POST" and form.validate():
        try:
            user, purpose = account_links.choose_password(db_session, token, form.password.data, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("password.invite_accepted" if purpose == "invite" else "password.reset", record_type="user",
                  record_id=user.id, actor_id=user.id)
            db_session.commit()
            session.pop(LINK_KEY, None)
            if purpose == "invite" and not current_user.is_authenticated:
                return sign_in.after_password(user, None)  # on to setting up the second factor
            flash("Your password has changed and you have been signed out everywhere. Sign in with the new one.")
            return see_other(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render("auth/choose_password.html", form=form, invite=link.purpose == "invite", name=user.name,
                  status=status)
