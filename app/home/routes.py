from flask import current_app
from flask_login import current_user, login_required

from app import db
from app.home import bp
from app.models.types import utcnow
from app.safety.forms import CrisisForm
from app.services import home as home_service
from app.web import offline_copy, own_team, render


@bp.get("/")
@login_required
@offline_copy
def index():
    db_session = db.session()
    now_local = utcnow().astimezone(current_app.extensions["fieldline.settings"].zone)
    if current_user.is_admin:
        return render("home/admin.html", overview=home_service.admin_overview(db_session, now_local.date()))
    team = own_team()
    if current_user.is_supervisor:
        from app.safety.routes import board

        return board()
    from app.appointments.routes import today_view
    from app.caseload import presenters as caseload_presenters
    from app.plans.presenters import plan_reminders
    from app.services import appointments, compliance_board, groups, people

    agenda, follow_ups, persons = today_view(current_user, now_local.date())
    meetings = groups.sessions_between(db_session, current_user.team_id, *groups.day_bounds(now_local.date()),
                                       facilitator_id=current_user.id)
    now = utcnow()
    overdue = people.caseload_page(db_session, current_user,
                                   people.CaseloadFilter(mine_only=True, overdue_only=True), now=now, size=10).rows
    # Enforceable appointments still without an outcome 2 working days on (app/orders).
    not_recorded = compliance_board.outcomes_not_recorded(db_session, now, now_local.tzinfo,
                                                          team_id=current_user.team_id, worker_id=current_user.id)
    return render(
        "home/today.html",
        not_recorded=not_recorded,
        not_recorded_names=people.names(db_session, current_user, {o.appointment.person_id for o in not_recorded}),
        team=team,
        greeting=home_service.greeting(now_local),
        first_name=current_user.name.split(" ")[0],
        today=now_local,
        agenda=agenda,
        follow_ups=follow_ups,
        meetings=meetings,
        rows={pid: caseload_presenters.row(p, now) for pid, p in persons.items()},
        overdue=[caseload_presenters.caseload_row(p, now) for p in overdue],
        kind_labels=appointments.KIND_LABELS,
        outcome_labels=appointments.OUTCOME_LABELS,
        plan=plan_reminders(db_session, current_user, now_local.date(), now_local.tzinfo),
    )


@bp.get("/crisis")
@login_required
@offline_copy
def crisis():
    team = own_team()
    duty_phone = team.duty_phone if team else None
    return render(
        "home/crisis.html",
        duty_phone=duty_phone,
        sms_link=home_service.crisis_sms_link(duty_phone, current_user.name) if duty_phone else None,
        crisis_form=CrisisForm(),
    )
