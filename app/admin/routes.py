"""Admin pages: staff accounts and teams. Every page is admin-only (404 for anyone else)."""
from flask import flash, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from app import db
from app.admin import bp
from app.admin.forms import NO_TEAM, EditUserForm, EndSessionsForm, NewUserForm, SelectChoice, TeamForm
from app.models import Team, User
from app.models.types import utcnow
from app.services import ValidationError
from app.services import audit as audit_service
from app.services import auth as auth_service
from app.services import two_factor
from app.services import users as users_service
from app.services.access import NotFound, get_team, get_user, require_admin
from app.auth.links import send_link, send_notice
from app.auth.sudo import ask_to_confirm, confirmed_first, recently_confirmed
from app.web import audit, render, see_other, show_errors


@bp.before_request
@login_required
def admins_only():
    require_admin(current_user)


def _team_choices(db_session, *, new: bool = False):
    """The teams, then "No team" (for admins only). A new user starts in the only team there is, or
    with a choice to make when there are several: never in "No team", which a worker can't be."""
    teams = db_session.exec(select(Team).order_by(Team.name)).all()
    ask = [SelectChoice("", "Choose a team")] if new and len(teams) > 1 else []
    default = (teams[0].id if len(teams) == 1 else "" if teams else None) if new else None
    return (ask + [SelectChoice(str(t.id), t.name) for t in teams]
            + [SelectChoice(NO_TEAM, "No team (admins only)")]), default



@bp.get("/")
def index():
    return see_other(url_for("admin.users"))


@bp.get("/users")
def users():
    db_session = db.session()
    rows = db_session.exec(select(User).order_by(User.active.desc(), User.name)).all()
    teams = {t.id: t.name for t in db_session.exec(select(Team)).all()}
    return render("admin/users.html", users=rows, teams=teams)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    db_session = db.session()
    form = NewUserForm()
    form.team_id.choices, first_choice = _team_choices(db_session, new=True)
    if request.method == "GET":
        form.team_id.data = first_choice
    if request.method == "POST" and form.validate():
        try:
            user = users_service.create_user(
                db_session,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                team_id=form.team_id.data or None,
                phone=form.phone.data,
                password=None,
            )
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("user.create", record_type="user", record_id=user.id, detail=f"role={user.role}")
            _email_link(user, "invite")
            db_session.commit()
            return see_other(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render("admin/user_form.html", form=form, user=None, status=status)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    db_session = db.session()
    user = get_user(db_session, current_user, user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    form.team_id.choices = _team_choices(db_session)[0]
    if request.method == "GET":
        form.team_id.data = user.team_id
    if request.method == "POST" and form.role.data != user.role and not recently_confirmed():
        return ask_to_confirm(url_for("admin.edit_user", user_id=user.id))  # a role change: confirm it's you
    if request.method == "POST" and form.validate():
        if user.id == current_user.id and (not form.active.data or form.role.data != "admin"):
            show_errors(form, {"active": "You can't deactivate yourself or remove your own admin role."})
        else:
            try:
                changed = users_service.update_user(
                    db_session,
                    user,
                    now=utcnow(),
                    email=form.email.data,
                    name=form.name.data,
                    role=form.role.data,
                    team_id=form.team_id.data or None,
                    phone=form.phone.data,
                    active=form.active.data,
                )
            except ValidationError as error:
                show_errors(form, error.errors)
            else:
                if changed:
                    action = "user.deactivate" if "active" in changed and not user.active else "user.update"
                    audit(action, record_type="user", record_id=user.id, detail="changed=" + ",".join(changed))
                    db_session.commit()
                return see_other(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render("admin/user_form.html", form=form, user=user, status=status, end_sessions=EndSessionsForm(),
                  signed_in=auth_service.signed_in_count(db_session, user.id),
                  has_second_factor=two_factor.has_second_factor(db_session, user))


@bp.post("/users/<int:user_id>/sessions/end")
def end_sessions(user_id: int):
    """Sign out everywhere: every device of this person is signed out, its push alerts stop, and
    each phone deletes what it kept offline the next time it reaches the server."""
    db_session = db.session()
    user = get_user(db_session, current_user, user_id)
    if user.id == current_user.id:
        raise NotFound  # the button is not offered on your own page: use Sign out
    ended = auth_service.end_all_login_sessions(db_session, user.id, now=utcnow(), reason="ended-by-admin")
    told = send_notice(user, "sessions-ended")  # whoever asked the admin may not be them
    audit("user.sessions_end", record_type="user", record_id=user.id, detail=f"sessions={ended},email={told.outcome}")
    db_session.commit()
    flash(f"Signed out on every device ({ended} open). Their phones delete what they kept offline "
          "the next time they reach the server.")
    return see_other(url_for("admin.edit_user", user_id=user.id))


def _email_link(user: User, purpose: str) -> None:
    """Email an invitation or a reset link, and say whether the mail server took it."""
    result = send_link(user, purpose)
    audit("user.invite" if purpose == "invite" else "user.reset_link", record_type="user", record_id=user.id,
          detail=f"email={result.outcome}")
    what = "an invitation" if purpose == "invite" else "a password reset link"
    if result.outcome == "sent":
        flash(f"Emailed {what} to {user.email}.")
    else:
        flash(f"Could not email {what} ({result.detail}). Check the mail settings, then send it again from "
              "the person's page.", "warn")


@bp.post("/users/<int:user_id>/link")
def email_link(user_id: int):
    """Send the invitation again (nobody has signed in yet) or a password reset link. Admins never
    set or see anyone's password."""
    db_session = db.session()
    user = get_user(db_session, current_user, user_id)
    if user.id == current_user.id or not user.active:
        raise NotFound
    _email_link(user, "invite" if user.last_login_at is None else "reset")
    db_session.commit()
    return see_other(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/second-factor/reset")
@confirmed_first
def reset_second_factor(user_id: int):
    """Someone lost their phone and their recovery codes: remove their authenticator app, passkeys,
    recovery codes and remembered phones, and sign them out everywhere. They are told by email
    (whoever asked the admin may not be them), and set up a new one at their next sign-in."""
    db_session = db.session()
    user = get_user(db_session, current_user, user_id)
    if user.id == current_user.id:
        raise NotFound
    now = utcnow()
    removed = two_factor.reset(db_session, user, now=now)
    auth_service.end_all_login_sessions(db_session, user.id, now=now, reason="password")
    result = send_notice(user, "second-factor-reset")
    audit("user.second_factor_reset", record_type="user", record_id=user.id,
          detail=f"removed={removed},email={result.outcome}")
    db_session.commit()
    told = "They have been told by email." if result.outcome == "sent" else f"The email to tell them failed ({result.detail})."
    flash(f"Second factor reset and signed out everywhere. {told}")
    return see_other(url_for("admin.edit_user", user_id=user.id))


@bp.get("/users/<int:user_id>/audit")
def user_audit(user_id: int):
    db_session = db.session()
    user = get_user(db_session, current_user, user_id)
    events = audit_service.trail(db_session, actor_id=user.id)
    audit("audit.view", record_type="user", record_id=user.id)
    db_session.commit()
    return render("admin/audit.html", subject=user.name, events=events, action_label=audit_service.action_label)


@bp.get("/teams")
def teams():
    rows = db.session().exec(select(Team).order_by(Team.name)).all()
    return render("admin/teams.html", teams=rows)


def _team_settings(form: TeamForm) -> users_service.TeamSettings:
    return users_service.TeamSettings(
        name=form.name.data or "",
        duty_phone=(form.duty_phone.data or "").strip() or None,
        grace_seconds=form.grace_seconds.data,
        escalation_seconds=form.escalation_seconds.data,
        min_visit_minutes=form.min_visit_minutes.data,
        max_visit_minutes=form.max_visit_minutes.data,
    )


@bp.route("/teams/new", methods=["GET", "POST"])
def new_team():
    form = TeamForm(data=users_service.TeamSettings(name="").__dict__ if request.method == "GET" else None)
    if request.method == "POST" and form.validate():
        db_session = db.session()
        try:
            team = users_service.create_team(db_session, _team_settings(form))
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            team.second_factor_for_all = form.second_factor_for_all.data
            audit("team.create", record_type="team", record_id=team.id)
            db_session.commit()
            return see_other(url_for("admin.teams"))
    status = 422 if request.method == "POST" else 200
    return render("admin/team_form.html", form=form, team=None, status=status)


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
def edit_team(team_id: int):
    db_session = db.session()
    team = get_team(db_session, current_user, team_id)
    form = TeamForm(obj=team if request.method == "GET" else None)
    if request.method == "POST" and form.validate():
        try:
            changed = users_service.update_team(db_session, team, _team_settings(form))
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            # Asked at each person's next sign-in: a session already running is never interrupted.
            if team.second_factor_for_all != form.second_factor_for_all.data:
                team.second_factor_for_all = form.second_factor_for_all.data
                changed.append("second_factor_for_all")
            if changed:
                audit("team.update", record_type="team", record_id=team.id, detail="changed=" + ",".join(changed))
                db_session.commit()
            return see_other(url_for("admin.teams"))
    status = 422 if request.method == "POST" else 200
    return render("admin/team_form.html", form=form, team=team, status=status)
