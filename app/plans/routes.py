"""A person's plan: its page, goals, steps, the person's agreement, reviews, versions and exit."""
from __future__ import annotations

from flask import flash, make_response, request, url_for
from flask_login import current_user, login_required

from app import db
from app.forms import record_id
from app.models import Person, Plan
from app.models.types import utcnow
from app.plans import bp, presenters
from app.plans.forms import AgreementForm, CloseForm, GoalForm, ReviewForm, StepForm, StepStatusForm
from app.services import ValidationError, people
from app.services import measures as measures_service
from app.services import plan_documents, plan_due, plan_history, plan_reviews
from app.services import plans as service
from app.services.access import NotFound
from app.web import audit, render, see_other, show_errors, zone


def _today():
    return utcnow().astimezone(zone()).date()


def _authors(person: Person) -> dict[int, str]:
    return {w.id: w.name for w in people.team_workers(db.session(), person.team_id)}


def _plan_of(person: Person, *, open_only: bool = False) -> Plan:
    plan = service.current_plan(db.session(), person)
    if plan is None or (open_only and plan.status != "open"):
        raise NotFound
    return plan


def _measure_choices(form: GoalForm) -> set[str]:
    offered = measures_service.offered(db.session(), current_user)
    form.measure.choices = [("", "None: a plain-words test")] + [(i.key, i.name) for i in offered]
    return {i.key for i in offered}


def _goal_details(form: GoalForm) -> service.GoalDetails:
    return service.GoalDetails(area=form.area.data or "", wants=form.wants.data or "",
                               how_we_know=form.how_we_know.data or "", target=form.target.data or "",
                               target_on=form.target_on.data, related_areas=list(form.related_areas.data or []),
                               measure=form.measure.data or None, status=form.status.data or "active",
                               status_reason=form.status_reason.data)


def _status(method_posted: bool) -> int:
    return 422 if method_posted else 200


@bp.get("/people/<int:person_id>/plan")
@login_required
def show(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    plan = service.current_plan(db_session, person)
    audit("plan.view", record_type="person", record_id=person.id)
    db_session.commit()
    if plan is None:
        return render("plans/show.html", person=person, state=None)
    state = service.state_of(db_session, plan)
    authors = _authors(person)
    return render("plans/show.html", person=person, state=state, areas=presenters.areas(state, authors),
                  distances=_distances(person, plan) if plan.status == "closed" else [],
                  review=presenters.review(state, _today()), review_on=presenters.day(plan.review_due_on),
                  agreement=presenters.agreement_line(state), versions=service.versions(db_session, plan),
                  agreements=service.agreements(db_session, plan), authors=authors,
                  agreement_labels=service.AGREEMENT_LABELS, zone=zone())


def _distances(person: Person, plan: Plan) -> list[plan_documents.Distance]:
    responses = measures_service.responses_for(db.session(), person)
    instruments = measures_service.instruments_for(db.session(), person.team_id, responses)
    return plan_documents.distances(plan, responses, instruments, zone())


@bp.route("/people/<int:person_id>/plan/goals/new", methods=["GET", "POST"])
@login_required
def new_goal(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    form = GoalForm()
    measures = _measure_choices(form)
    if request.method == "POST" and form.validate():
        try:
            goal = service.add_goal(db_session, current_user, person, _goal_details(form), now=utcnow(),
                                    today=_today(), measures=measures)
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("plan.goal_add", record_type="plan_goal", record_id=goal.id)
            db_session.commit()
            flash("Goal added. Add a step towards it.")
            return see_other(url_for("plans.new_step", goal_id=goal.id))
    return render("plans/goal_form.html", person=person, form=form, goal=None, status=_status(request.method == "POST"))


@bp.route("/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@login_required
def edit_goal(goal_id: int):
    db_session = db.session()
    goal = service.get_goal(db_session, current_user, goal_id)
    plan = db_session.get(Plan, goal.plan_id)
    person = people.get_person(db_session, current_user, plan.person_id)
    form = GoalForm(obj=goal if request.method == "GET" else None)
    if request.method == "GET":
        form.target.data = "date"
    measures = _measure_choices(form)
    if request.method == "POST" and form.validate():
        try:
            changed = service.change_goal(db_session, current_user, goal, _goal_details(form), now=utcnow(),
                                          today=_today(), measures=measures)
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            if changed:
                audit("plan.goal_change", record_type="plan_goal", record_id=goal.id)
                db_session.commit()
            flash("Goal saved." if changed else "Nothing changed.")
            return see_other(url_for("plans.show", person_id=person.id))
    return render("plans/goal_form.html", person=person, form=form, goal=goal, status=_status(request.method == "POST"))


@bp.route("/goals/<int:goal_id>/steps/new", methods=["GET", "POST"])
@login_required
def new_step(goal_id: int):
    db_session = db.session()
    goal = service.get_goal(db_session, current_user, goal_id)
    plan = db_session.get(Plan, goal.plan_id)
    person = people.get_person(db_session, current_user, plan.person_id)
    form = StepForm()
    if request.method == "POST" and form.validate():
        details = service.StepDetails(what=form.what.data or "", owner=form.owner.data or "",
                                      owner_name=form.owner_name.data, due_on=form.due_on.data,
                                      status=form.status.data or "not_started")
        try:
            step = service.add_step(db_session, current_user, goal, details, now=utcnow(), today=_today())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("plan.step_add", record_type="plan_step", record_id=step.id)
            db_session.commit()
            flash("Step added.")
            if request.form.get("then") == "another":
                return see_other(url_for("plans.new_step", goal_id=goal.id))
            return see_other(url_for("plans.show", person_id=person.id))
    return render("plans/step_form.html", person=person, form=form, goal=goal, status=_status(request.method == "POST"))


def _step_status(step_id: int, status: str | None, back: str):
    db_session = db.session()
    step = service.get_step(db_session, current_user, step_id)
    plan = db_session.get(Plan, step.plan_id)
    person = people.get_person(db_session, current_user, plan.person_id)
    try:
        changed = service.set_step_status(db_session, current_user, step, status or "", now=utcnow())
    except ValidationError as error:
        flash(next(iter(error.errors.values())), "error")
        return see_other(url_for("plans.show", person_id=person.id))
    if changed:
        audit("plan.step_status", record_type="plan_step", record_id=step.id, detail=step.status)
        db_session.commit()
    flash("Step marked done." if step.status == "done" else "Step saved.")
    return see_other(url_for("caseload.person", person_id=person.id) if back == "person"
                     else url_for("plans.show", person_id=person.id))


@bp.post("/steps/<int:step_id>/done")
@login_required
def step_done(step_id: int):
    """One tap from the person's page (sent through the outbox when there is no signal)."""
    if not StepStatusForm().validate():
        raise NotFound
    return _step_status(step_id, "done", request.form.get("back", ""))


@bp.post("/steps/<int:step_id>/status")
@login_required
def step_status(step_id: int):
    form = StepStatusForm()
    if not form.validate():
        raise NotFound
    return _step_status(step_id, form.status.data, "plan")


@bp.route("/people/<int:person_id>/plan/agreement", methods=["GET", "POST"])
@login_required
def agreement(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    plan = _plan_of(person)
    found = service.versions(db_session, plan)
    form = AgreementForm()
    form.version.choices = [("", f"The whole plan (version {plan.version})")] + [
        (str(v.number), f"Version {v.number}: {v.change}") for v in found]
    if request.method == "POST" and form.validate():
        try:
            row = plan_reviews.record_agreement(db_session, current_user, plan, form.answer.data or "", form.why.data,
                                           form.comment.data, version=record_id(form.version.data), now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("plan.agreement", record_type="plan", record_id=plan.id, detail=f"v{row.version}={row.answer}")
            db_session.commit()
            flash("Their answer is recorded.")
            return see_other(url_for("plans.show", person_id=person.id))
    return render("plans/agreement.html", person=person, plan=plan, form=form, status=_status(request.method == "POST"))


@bp.route("/people/<int:person_id>/plan/review", methods=["GET", "POST"])
@login_required
def review(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    plan = _plan_of(person, open_only=True)
    state = service.state_of(db_session, plan)
    form = ReviewForm()
    typed = {g.id: request.form.get(f"progress-{g.id}", "") for g in state.goals}
    errors: dict[str, str] = {}
    if request.method == "POST" and form.validate():
        try:
            version = plan_reviews.review(db_session, current_user, plan, person, typed, now=utcnow(), today=_today(),
                                     next_on=form.next_on.data)
        except ValidationError as error:
            errors = {k: v for k, v in error.errors.items() if k.startswith("progress-")}
            show_errors(form, {k: v for k, v in error.errors.items() if not k.startswith("progress-")})
        else:
            audit("plan.review", record_type="plan", record_id=plan.id, detail=f"v{version.number}")
            db_session.commit()
            flash(f"Plan reviewed: version {version.number}. Next review {presenters.day(plan.review_due_on)}.")
            return see_other(url_for("plans.show", person_id=person.id))
    return render("plans/review.html", person=person, plan=plan, form=form, typed=typed, errors=errors,
                  areas=presenters.areas(state, _authors(person)), status=_status(request.method == "POST"))


@bp.get("/people/<int:person_id>/plan/versions/<int:number>")
@login_required
def version(person_id: int, number: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    plan = _plan_of(person)
    found = service.get_version(db_session, plan, number)
    audit("plan.version_view", record_type="plan", record_id=plan.id, detail=f"v{number}")
    db_session.commit()
    earlier = service.get_version(db_session, plan, number - 1) if number > 1 else None
    return render("plans/version.html", person=person, plan=plan, version=found,
                  areas=presenters.snapshot_areas(found.snapshot), author=_authors(person).get(found.made_by_id, ""),
                  changes=plan_history.differences(earlier.snapshot if earlier else {}, found.snapshot), zone=zone())


@bp.get("/people/<int:person_id>/plan/compare")
@login_required
def compare(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    plan = _plan_of(person)
    older_n, newer_n = record_id(request.args.get("from")), record_id(request.args.get("to"))
    if older_n is None or newer_n is None:
        raise NotFound
    older_n, newer_n = sorted((older_n, newer_n))
    older, newer = service.get_version(db_session, plan, older_n), service.get_version(db_session, plan, newer_n)
    audit("plan.compare", record_type="plan", record_id=plan.id, detail=f"v{older_n}..v{newer_n}")
    db_session.commit()
    return render("plans/compare.html", person=person, plan=plan, older=older, newer=newer,
                  changes=plan_history.differences(older.snapshot, newer.snapshot))


@bp.route("/people/<int:person_id>/plan/close", methods=["GET", "POST"])
@login_required
def close(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    plan = _plan_of(person, open_only=True)
    state = service.state_of(db_session, plan)
    form = CloseForm()
    typed = {g.id: (request.form.get(f"outcome-{g.id}", ""), request.form.get(f"note-{g.id}", "")) for g in state.goals}
    errors: dict[str, str] = {}
    if request.method == "POST" and form.validate():
        exit = plan_reviews.Exit(typed, form.warning_signs.data or "", form.what_helps.data or "",
                            form.who_to_contact.data or "", form.signposted.data or "")
        try:
            plan_reviews.close(db_session, current_user, plan, exit, now=utcnow())
        except ValidationError as error:
            errors = {k: v for k, v in error.errors.items() if k.startswith(("outcome-", "note-"))}
            show_errors(form, {k: v for k, v in error.errors.items() if k not in errors})
        else:
            audit("plan.close", record_type="plan", record_id=plan.id)
            db_session.commit()
            flash("Plan closed. Download the end-of-intervention summary, then close the case if it is over.")
            return see_other(url_for("plans.show", person_id=person.id))
    # Closing starts the exit: the instruments in use fall due now (a score from the last two weeks counts).
    last = plan_due.last_taken(measures_service.responses_for(db_session, person, answers=False), zone())
    due = plan_due.due_for_plan(plan, state.goals, last, _today(), zone(), closing_on=_today())
    return render("plans/close.html", person=person, plan=plan, form=form, typed=typed, errors=errors,
                  areas=presenters.areas(state, _authors(person)), outcomes=service.OUTCOME_LABELS,
                  due=presenters.due_lines(db_session, person.team_id, due), status=_status(request.method == "POST"))


@bp.get("/people/<int:person_id>/plan/summary.pdf")
@login_required
def summary_pdf(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    plan = _plan_of(person)
    if plan.status != "closed":
        raise NotFound
    state = service.state_of(db_session, plan)
    responses = measures_service.responses_for(db_session, person)
    instruments = measures_service.instruments_for(db_session, person.team_id, responses)
    body = plan_documents.summary_pdf(person, state, responses, instruments, _authors(person), zone())
    audit("plan.summary_pdf", record_type="plan", record_id=plan.id)
    db_session.commit()
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{plan_documents.reference(plan)}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
