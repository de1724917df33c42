"""Orders and compliance: adding an order and its requirements, making appointments instructions,
recording their outcomes, warnings, decisions, evidence, the breach evidence pack, and the team's
policy and list."""
from flask import flash, make_response, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import db
from app.models import User
from app.models.types import utcnow
from app.orders.forms import (ChaseForm, DecisionForm, EnforceableOutcomeForm, EvidenceForm, InstructionForm, OrderForm,
                              PackForm, PolicyForm, RequirementForm, SignForm, WarningForm)
from app.orders import bp
from app.services import ValidationError, people
from app.services import appointments as appointments_service
from app.services import compliance, compliance_board, evidence_pack, orders
from app.services import compliance_rules as rules
from app.services.access import NotFound
from app.caseload.presenters import local_date
from app.services.calendar import moment_from_link
from app.web import audit, render, see_other, show_errors, zone


def _order(order_id: int):
    db_session = db.session()
    order = orders.get_order(db_session, current_user, order_id)
    return db_session, order, people.get_person(db_session, current_user, order.person_id)


@bp.route("/people/<int:person_id>/orders/new", methods=["GET", "POST"])
@login_required
def new(person_id: int):
    db_session = db.session()
    person = people.get_person(db_session, current_user, person_id)
    form = OrderForm()
    form.responsible_officer_id.choices = [SelectChoice("", "Choose the officer")] + [
        SelectChoice(str(w.id), w.name) for w in people.team_workers(db_session, person.team_id)]
    if request.method == "GET":
        form.responsible_officer_id.data = current_user.id
    if request.method == "POST" and form.validate():
        details = orders.OrderDetails(form.kind.data or "", form.made_by.data or "", form.starts_on.data,
                                      form.ends_on.data, form.expected_end_on.data, form.responsible_officer_id.data)
        try:
            order = orders.create_order(db_session, current_user, person, details, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("order.create", record_type="order", record_id=order.id, detail=order.kind)
            db_session.commit()
            flash("Order added. Add its requirements below.")
            return see_other(url_for("orders.show", order_id=order.id))
    return render("orders/new.html", person=person, form=form, status=422 if request.method == "POST" else 200)


def _requirement_form(db_session, order, form=None):
    form = form or RequirementForm(formdata=None)
    form.named_person_ids.choices = [SelectChoice(str(p.id), p.name) for p in
                                     people.visit_choices(db_session, current_user) if p.id != order.person_id]
    return form


def _instruction_form(db_session, order, requirements, form=None):
    form = form or InstructionForm(formdata=None)
    mine = [a for a in appointments_service.for_team(db_session, order.team_id) if a.person_id == order.person_id]
    linked = {link.appointment_id for link, _ in orders.links_for(db_session, [order.id])}
    form.appointment_id.choices = [SelectChoice("", "Choose an appointment")] + [
        SelectChoice(str(a.id), f"{appointments_service.KIND_LABELS[a.kind]}, {a.starts_local:%a %-d %b %Y %H:%M}"
                     + ("" if a.repeat == "none" else f" ({appointments_service.REPEAT_LABELS[a.repeat].lower()})"))
        for a in sorted(mine, key=lambda a: a.starts_local) if a.id not in linked]
    form.requirement_id.choices = [SelectChoice("", "The order as a whole")] + [
        SelectChoice(str(r.id), orders.REQUIREMENT_LABELS[r.kind]) for r in requirements]
    return form


def _show(db_session, order, person, *, requirement_form=None, instruction_form=None, evidence_form=None,
          evidence_for=None, chase_form=None, chase_for=None, status=200):
    panel = next(p for p in compliance.panels(db_session, person, utcnow(), zone()) if p.order.id == order.id)
    requirements = [p.requirement for p in panel.requirements]
    named = orders.named_people(db_session, [r.id for r in requirements])
    names = people.names(db_session, current_user, {pid for pids in named.values() for pid in pids})
    events = {e.id: e for e in panel.events}
    return render("orders/show.html", status=status, order=order, person=person, panel=panel,
                  officer=db_session.get(User, order.responsible_officer_id),
                  named={rid: [names.get(pid, "") for pid in pids] for rid, pids in named.items()},
                  requirement_form=_requirement_form(db_session, order, requirement_form),
                  instruction_form=_instruction_form(db_session, order, requirements, instruction_form),
                  links=sorted(orders.links_for(db_session, [order.id]), key=lambda pair: pair[1].starts_local),
                  requirement_labels={r.id: orders.REQUIREMENT_LABELS[r.kind] for r in requirements},
                  events=events, prompt_label=compliance.prompt_label, outcome_labels=orders.OUTCOME_LABELS,
                  absence_labels=orders.ABSENCE_LABELS, told_how=orders.TOLD_HOW,
                  packs=evidence_pack.packs_for(db_session, order), evidence_form=evidence_form or EvidenceForm(formdata=None), evidence_for=evidence_for,
                  chase_form=chase_form or ChaseForm(formdata=None), chase_for=chase_for,
                  evidence_lines=compliance.evidence_lines)


@bp.get("/orders/<int:order_id>")
@login_required
def show(order_id: int):
    db_session, order, person = _order(order_id)
    audit("order.view", record_type="order", record_id=order.id)
    db_session.commit()
    return _show(db_session, order, person)


@bp.post("/orders/<int:order_id>/requirements")
@login_required
def add_requirement(order_id: int):
    db_session, order, person = _order(order_id)
    form = _requirement_form(db_session, order, RequirementForm())
    if form.validate():
        details = orders.RequirementDetails(form.kind.data or "", form.detail.data, form.target.data,
                                            list(form.named_person_ids.data or []), form.named_others.data)
        try:
            requirement = orders.add_requirement(db_session, order, details, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("order.requirement", record_type="order", record_id=order.id, detail=requirement.kind)
            db_session.commit()
            flash(f"{orders.REQUIREMENT_LABELS[requirement.kind]} added.")
            return see_other(url_for("orders.show", order_id=order.id))
    db_session.rollback()
    return _show(db_session, order, person, requirement_form=form, status=422)


@bp.post("/orders/<int:order_id>/instructions")
@login_required
def add_instruction(order_id: int):
    db_session, order, person = _order(order_id)
    form = InstructionForm()
    if form.validate():
        try:
            link = orders.make_enforceable(db_session, order, current_user, appointment_id=form.appointment_id.data,
                                           requirement_id=form.requirement_id.data, told_how=form.told_how.data or "",
                                           told_on=form.told_on.data, now=utcnow())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("order.instruction", record_type="appointment", record_id=link.appointment_id,
                  detail=f"order={order.id}")
            db_session.commit()
            flash("The appointment is now enforceable under this order.")
            return see_other(url_for("orders.show", order_id=order.id))
    db_session.rollback()
    requirements = orders.requirements_for(db_session, [order.id])[order.id]
    return _show(db_session, order, person,
                 instruction_form=_instruction_form(db_session, order, requirements, form), status=422)


@bp.post("/appointments/<int:appointment_id>/enforceable-outcome")
@login_required
def record_outcome(appointment_id: int):
    from app.appointments.routes import _occurrence, _page

    db_session = db.session()
    appointment = appointments_service.get_appointment(db_session, current_user, appointment_id)
    form = EnforceableOutcomeForm()
    on = moment_from_link(form.on.data)
    if on is None:
        raise NotFound
    if form.validate():
        try:
            event = compliance.record_appointment_outcome(
                db_session, appointment, on, current_user, outcome=form.outcome.data or "", reason=form.reason.data,
                absence_reason=form.absence_reason.data or None, evidence_due_on=form.evidence_due_on.data,
                now=utcnow(), zone=zone())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("compliance.outcome", record_type="order", record_id=event.order_id, detail=event.outcome)
            db_session.commit()
            flash("Outcome recorded on the compliance record.")
            return see_other(url_for("orders.show", order_id=event.order_id))
    db_session.rollback()
    return _page(appointment, _occurrence(appointment, on), refused=form, status=422)


@bp.route("/orders/<int:order_id>/warnings/<int:failure_id>", methods=["GET", "POST"])
@login_required
def give_warning(order_id: int, failure_id: int):
    db_session, order, person = _order(order_id)
    failure = compliance.event_of(db_session, order, failure_id)
    policy = compliance.policy_for(db_session, order.team_id, rules.family_of(order.kind))
    form = WarningForm()
    if request.method == "GET":
        form.letter.data = compliance.warning_letter(order, person, failure, current_user, policy,
                                                     orders.local_today(utcnow(), zone()))
        audit("compliance.warning_draft", record_type="order", record_id=order.id, detail=f"event={failure.id}")
        db_session.commit()
    if request.method == "POST" and form.validate():
        try:
            warning = compliance.give_warning(db_session, order, failure.id, current_user, letter=form.letter.data,
                                              now=utcnow(), zone=zone())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("compliance.warning", record_type="order", record_id=order.id, detail=f"event={warning.id}")
            db_session.commit()
            flash("Warning recorded with its letter.")
            return see_other(url_for("orders.show", order_id=order.id))
    return render("orders/warning.html", order=order, person=person, failure=failure, form=form,
                  outcome_label=orders.OUTCOME_LABELS[failure.outcome], status=422 if request.method == "POST" else 200)


@bp.route("/orders/<int:order_id>/decisions/<int:failure_id>", methods=["GET", "POST"])
@login_required
def record_decision(order_id: int, failure_id: int):
    if current_user.role != "supervisor":
        raise NotFound
    db_session, order, person = _order(order_id)
    failure = compliance.event_of(db_session, order, failure_id)
    family = rules.family_of(order.kind)
    form = DecisionForm()
    form.decision.choices = [SelectChoice(k, v) for k, v in compliance.decision_labels(family).items()]
    if request.method == "GET":
        audit("compliance.decision_view", record_type="order", record_id=order.id, detail=f"event={failure.id}")
        db_session.commit()
    if request.method == "POST" and form.validate():
        try:
            decision = compliance.record_decision(db_session, order, failure.id, current_user,
                                                  decision=form.decision.data or "", reason=form.reason.data,
                                                  now=utcnow(), zone=zone())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("compliance.decision", record_type="order", record_id=order.id, detail=decision.decision)
            db_session.commit()
            flash("Decision recorded.")
            return see_other(url_for("orders.show", order_id=order.id))
    return render("orders/decision.html", order=order, person=person, failure=failure, form=form,
                  outcome_label=orders.OUTCOME_LABELS[failure.outcome], status=422 if request.method == "POST" else 200)


@bp.post("/orders/<int:order_id>/evidence/<int:absence_id>")
@login_required
def record_evidence(order_id: int, absence_id: int):
    db_session, order, person = _order(order_id)
    form = EvidenceForm()
    if form.validate():
        try:
            compliance.record_evidence(db_session, order, absence_id, current_user, received_on=form.received_on.data,
                                       note=form.note.data, now=utcnow(), zone=zone())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("compliance.evidence", record_type="order", record_id=order.id)
            db_session.commit()
            flash("Evidence recorded.")
            return see_other(url_for("orders.show", order_id=order.id))
    db_session.rollback()
    return _show(db_session, order, person, evidence_form=form, evidence_for=absence_id, status=422)


@bp.post("/orders/<int:order_id>/evidence/<int:absence_id>/chased")
@login_required
def record_evidence_chased(order_id: int, absence_id: int):
    db_session, order, person = _order(order_id)
    form = ChaseForm()
    if form.validate():
        try:
            compliance.record_evidence_chased(db_session, order, absence_id, current_user, chased_on=form.chased_on.data,
                                              how=form.how.data, note=form.note.data, now=utcnow(), zone=zone())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("compliance.evidence_chased", record_type="order", record_id=order.id)
            db_session.commit()
            flash("Evidence chased: it is on the record.")
            return see_other(url_for("orders.show", order_id=order.id))
    db_session.rollback()
    return _show(db_session, order, person, chase_form=form, chase_for=absence_id, status=422)


@bp.route("/orders/<int:order_id>/pack", methods=["GET", "POST"])
@login_required
def pack(order_id: int):
    db_session, order, person = _order(order_id)
    form = PackForm()
    contacts = evidence_pack.contact_choices(db_session, person)
    form.contact_ids.choices = [SelectChoice(str(c.id), f"{c.happened_at.astimezone(zone()):%-d %b %Y}: {c.notes[:80]}")
                                for c in contacts]
    if request.method == "POST" and form.validate():
        try:
            built = evidence_pack.build(db_session, order, current_user, statement=form.statement.data,
                                        contact_ids=list(form.contact_ids.data or []), now=utcnow(), zone=zone())
        except ValidationError as error:
            show_errors(form, error.errors)
        else:
            audit("pack.build", record_type="evidence_pack", record_id=built.id, detail=f"v{built.version}")
            db_session.commit()
            flash(f"Version {built.version} of the pack is ready.")
            return see_other(url_for("orders.pack", order_id=order.id))
    if request.method == "GET":
        audit("pack.list", record_type="order", record_id=order.id)
        db_session.commit()
    return render("orders/pack.html", order=order, person=person, form=form, sign_form=SignForm(formdata=None),
                  packs=evidence_pack.packs_for(db_session, order), reference=evidence_pack.reference(order),
                  local=local_date, zone=zone(), status=422 if request.method == "POST" else 200)


@bp.get("/packs/<int:pack_id>/pdf")
@login_required
def pack_pdf(pack_id: int):
    db_session = db.session()
    found = evidence_pack.get_pack(db_session, current_user, pack_id)
    order = orders.get_order(db_session, current_user, found.order_id)
    audit("pack.download", record_type="evidence_pack", record_id=found.id)
    db_session.commit()
    response = make_response(found.pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{evidence_pack.file_name(found, order)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/packs/<int:pack_id>/sign")
@login_required
def sign_pack(pack_id: int):
    db_session = db.session()
    found = evidence_pack.get_pack(db_session, current_user, pack_id)
    if not SignForm().validate():
        raise NotFound
    try:
        evidence_pack.sign(db_session, found, current_user, now=utcnow(), zone=zone())
    except ValidationError as error:
        flash(next(iter(error.errors.values())))
    else:
        audit("pack.sign", record_type="evidence_pack", record_id=found.id)
        db_session.commit()
        flash(f"Version {found.version} signed: it can no longer change.")
    return see_other(url_for("orders.pack", order_id=found.order_id))


@bp.route("/team/compliance", methods=["GET", "POST"])
@login_required
def team():
    """The supervisor's list (decisions due with their clocks, warnings, outcomes not recorded) and
    the team's policy."""
    if current_user.role != "supervisor":
        raise NotFound
    db_session = db.session()
    now = utcnow()
    forms = {}
    for family in rules.DEFAULT_POLICIES:
        policy = compliance.policy_for(db_session, current_user.team_id, family)
        posted = request.method == "POST" and f"{family}-family" in request.form
        form = PolicyForm(prefix=family) if posted else PolicyForm(formdata=None, prefix=family, family=family, **{
            name: getattr(policy, name) for name in rules.LIMITS})
        forms[family] = form
        if posted and form.validate():
            try:
                compliance.set_policy(db_session, current_user, family, {name: form[name].data for name in rules.LIMITS},
                                      now=now)
            except ValidationError as error:
                show_errors(form, error.errors)
            else:
                audit("compliance.policy", record_type="team", record_id=current_user.team_id, detail=family)
                db_session.commit()
                flash("Policy changed. The record keeps every earlier setting.")
                return see_other(url_for("orders.team"))
    return render("orders/team.html", forms=forms, **_due(db_session, now),
                  status=422 if request.method == "POST" else 200)


def _due(db_session, now) -> dict:
    """The team's list as both the compliance page and the board's card show it (the view audited)."""
    audit("compliance.board", record_type="team", record_id=current_user.team_id)
    db_session.commit()
    not_recorded = compliance_board.outcomes_not_recorded(db_session, now, zone(), team_id=current_user.team_id)
    return {"board": compliance_board.team_board(db_session, current_user.team_id, now, zone()),
            "not_recorded": not_recorded,
            "names": people.names(db_session, current_user, {o.appointment.person_id for o in not_recorded})}


@bp.get("/team/compliance/due")
@login_required
def team_due():
    """The supervisor's board loads this card once (with htmx), outside the alarm's 5-second refresh."""
    if current_user.role != "supervisor":
        raise NotFound
    return render("orders/_team_due.html", **_due(db.session(), utcnow()))
