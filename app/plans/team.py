"""The supervisor's view of the team's plans: the outcome figures with a date range and their CSV,
and the reviews due or overdue (a card the team board loads after the page)."""
from flask import make_response, request
from flask_login import current_user, login_required

from app import db
from app.models.types import utcnow
from app.plans import bp, presenters
from app.plans.forms import RangeForm
from app.services import ValidationError, outcomes, plan_due
from app.services.access import NotFound
from app.web import audit, render, show_errors, zone


def _supervisor() -> None:
    if current_user.role != "supervisor" or current_user.team_id is None:
        raise NotFound


def _figures():
    """The figures for the range asked for, or the form to fix (None) when the range is refused."""
    form = RangeForm(request.args)
    today = utcnow().astimezone(zone()).date()
    if form.validate():
        try:
            start, end = outcomes.date_range(form.start.data, form.end.data, today)
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            return form, outcomes.figures(db.session(), current_user.team_id, start, end, today=today, zone=zone())
    return form, None


@bp.get("/team/outcomes")
@login_required
def outcomes_page():
    _supervisor()
    form, found = _figures()
    audit("outcomes.view", record_type="team", record_id=current_user.team_id)
    db.session().commit()
    return render("plans/outcomes.html", form=form, found=found, lines=outcomes.keyed_lines(found) if found else [],
                  day=presenters.day, status=200 if found else 422)


@bp.get("/team/outcomes/records")
@login_required
def outcomes_records():
    """The people (or goals) behind one figure, for the same range: the figure's key and the dates
    are the whole address (no name in it); only the supervisor's own team's records."""
    _supervisor()
    form, found = _figures()
    if found is None:
        raise NotFound
    today = utcnow().astimezone(zone()).date()
    figure = request.args.get("figure", "")
    records = outcomes.behind(db.session(), current_user.team_id, figure, found.start, found.end, today=today,
                              zone=zone())
    if records is None:
        raise NotFound
    audit("outcomes.records", record_type="team", record_id=current_user.team_id, detail=f"figure={figure}")
    db.session().commit()
    return render("plans/outcome_records.html", found=found, records=records, day=presenters.day)


@bp.get("/team/outcomes.csv")
@login_required
def outcomes_csv():
    _supervisor()
    form, found = _figures()
    if found is None:
        raise NotFound
    audit("outcomes.export", record_type="team", record_id=current_user.team_id)
    db.session().commit()
    response = make_response(outcomes.as_csv(found))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="outcomes-{found.start}-{found.end}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/team/plans/reviews")
@login_required
def team_reviews():
    """Reviews due or overdue across the team (the board loads this card with htmx)."""
    _supervisor()
    today = utcnow().astimezone(zone()).date()
    due = [(person, presenters.day(plan.review_due_on), presenters.REVIEW_LABELS[state])
           for plan, person, state in plan_due.reviews_due(db.session(), current_user, today, mine_only=False)]
    return render("plans/_team_reviews.html", due=due)
