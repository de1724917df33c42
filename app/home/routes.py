from flask import current_app
from flask_login import current_user, login_required

from app import db
from app.home import bp
from app.models import Team
from app.models.types import utcnow
from app.safety.forms import CrisisForm
from app.services import home as home_service
from app.web import offline_copy, render


@bp.get("/")
@login_required
@offline_copy
def index():
    db_session = db.session()
    now_local = utcnow().astimezone(current_app.extensions["fieldline.settings"].zone)
    if current_user.is_admin:
        return render("home/admin.html", overview=home_service.admin_overview(db_session))
    team = db_session.get(Team, current_user.team_id)
    if current_user.is_supervisor:
        from app.safety.routes import board

        return board()
    from app.appointments.routes import today_view
    from app.caseload import presenters as caseload_presenters
    from app.plans.presenters import plan_reminders
    from app.services import appointments, people

    agenda, follow_ups, persons = today_view(current_user, now_local.date())
    now = utcnow()
    overdue = people.caseload_page(db_session, current_user,
                                   people.CaseloadFilter(mine_only=True, overdue_only=True), now=now, size=10).rows
    return render(
        "home/today.html",
        team=team,
        greeting=home_service.greeting(now_local),
        first_name=current_user.name.split(" ")[0],
        today=now_local,
        agenda=agenda,
        follow_ups=follow_ups,
        rows={pid: caseload_presenters.row(p, now) for pid, p in persons.items()},
        overdue=[caseload_presenters.caseload_row(p, now) for p in overdue],
        kind_labels=appointments.KIND_LABELS,
        outcome_labels=appointments.OUTCOME_LABELS,
        plan=plan_reminders(db_session, current_user, now_local.date()),
    )


@bp.get("/crisis")
@login_required
@offline_copy
def crisis():
    team = db.session().get(Team, current_user.team_id) if current_user.team_id else None
    duty_phone = team.duty_phone if team else None
    return render(
        "home/crisis.html",
        duty_phone=duty_phone,
        sms_link=home_service.crisis_sms_link(duty_phone, current_user.name) if duty_phone else None,
        crisis_form=CrisisForm(),
    )
