"""The order and compliance forms (every rule is checked by the services, so all problems show at once)."""
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms import StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from app.forms import NulFreeForm
from app.forms import WithinCalendar, an_id, int_or_none
from app.models.orders import ABSENCE_REASONS, ENFORCEABLE_OUTCOMES, ORDER_KINDS, REQUIREMENT_KINDS
from app.services.orders import ABSENCE_LABELS, ORDER_LABELS, OUTCOME_LABELS, REQUIREMENT_LABELS, TOLD_HOW


def _choices(keys, labels, blank: str | None = None):
    return ([SelectChoice("", blank)] if blank else []) + [SelectChoice(k, labels[k]) for k in keys]


class OrderForm(NulFreeForm):
    kind = SelectField("Kind of order", choices=_choices(ORDER_KINDS, ORDER_LABELS, "Choose the kind"),
                       validate_choice=False)
    made_by = StringField("Made by (court or body)", validators=[Optional(), Length(max=200)])
    starts_on = DateField("Starts", validators=[Optional(), WithinCalendar()])
    ends_on = DateField("Ends", validators=[Optional(), WithinCalendar()])
    expected_end_on = DateField("Expected end (optional)", validators=[Optional(), WithinCalendar()])
    responsible_officer_id = SelectField("Responsible officer", coerce=int_or_none, validate_choice=False)


class RequirementForm(NulFreeForm):
    kind = SelectField("Requirement", choices=_choices(REQUIREMENT_KINDS, REQUIREMENT_LABELS, "Choose the requirement"),
                       validate_choice=False)
    target = IntegerField("Days or hours ordered (activity days, unpaid work hours)",
                          validators=[Optional(), NumberRange(1, 1000)], render_kw={"inputmode": "numeric"})
    detail = TextAreaField("What it says (times, zone, address, condition)", validators=[Optional(), Length(max=2000)])
    named_person_ids = SelectMultipleField("Must not meet (people on the caseload)", coerce=an_id,
                                           validate_choice=False)
    named_others = StringField("Must not meet (others, by name)", validators=[Optional(), Length(max=500)])


class InstructionForm(NulFreeForm):
    appointment_id = SelectField("Appointment", coerce=int_or_none, validate_choice=False)
    requirement_id = SelectField("Under the requirement", coerce=int_or_none, validate_choice=False)
    told_how = SelectField("How they were told", choices=_choices(TOLD_HOW, TOLD_HOW, "Choose how"),
                           validate_choice=False)
    told_on = DateField("When they were told", validators=[Optional(), WithinCalendar()])


class EnforceableOutcomeForm(NulFreeForm):
    on = HiddenField()
    outcome = RadioField("What happened?", choices=_choices(ENFORCEABLE_OUTCOMES, OUTCOME_LABELS),
                         validate_choice=False)
    reason = TextAreaField("Reason or note (needed for a failure to comply, sent home, or a change)",
                           validators=[Optional(), Length(max=2000)])
    absence_reason = SelectField("Why the absence is acceptable",
                                 choices=_choices(ABSENCE_REASONS, ABSENCE_LABELS, "Not an acceptable absence"),
                                 validate_choice=False)
    evidence_due_on = DateField("Evidence due by (optional)", validators=[Optional(), WithinCalendar()])
    made_at = HiddenField()


class WarningForm(NulFreeForm):
    letter = TextAreaField("The letter", validators=[Optional(), Length(max=10000)])


class DecisionForm(NulFreeForm):
    decision = RadioField("Decision", validate_choice=False)
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)])


class EvidenceForm(NulFreeForm):
    received_on = DateField("Evidence received on", validators=[Optional(), WithinCalendar()])
    note = StringField("What it was (optional)", validators=[Optional(), Length(max=300)])


class ChaseForm(NulFreeForm):
    chased_on = DateField("Evidence chased on", validators=[Optional(), WithinCalendar()])
    how = SelectField("How it was chased", choices=_choices(TOLD_HOW, TOLD_HOW, "Choose how"), validate_choice=False)
    note = StringField("Note (optional)", validators=[Optional(), Length(max=300)])


class PackForm(NulFreeForm):
    contact_ids = SelectMultipleField("Contact notes to include", coerce=an_id, validate_choice=False,
                                      option_widget=widgets.CheckboxInput(),
                                      widget=widgets.ListWidget(prefix_label=False))
    statement = TextAreaField("Officer's statement", validators=[Optional(), Length(max=20000)])


class SignForm(NulFreeForm):
    pass


class PolicyForm(NulFreeForm):
    family = HiddenField()
    warnings_before_breach = IntegerField("Warnings before a breach (or recall) decision",
                                          validators=[Optional()], render_kw={"inputmode": "numeric"})
    window_months = IntegerField("A warning counts for (months)", validators=[Optional()],
                                 render_kw={"inputmode": "numeric"})
    decision_working_days = IntegerField("Working days to decide", validators=[Optional()],
                                         render_kw={"inputmode": "numeric"})
