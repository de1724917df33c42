from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import WithinCalendar, int_or_none
from app.models import FLAGS
from app.services.case_closure import REASON_LABELS as CLOSE_REASON_LABELS
from app.services.people import CONSENT_LABELS, FLAG_LABELS, RISK_LABELS


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RiskFieldsMixin:
    risk_level = RadioField("Overall risk", choices=[SelectChoice(k, v) for k, v in RISK_LABELS.items()], default="low",
                            validators=[DataRequired("Choose a risk level.")])
    flags = CheckboxesField("Warning flags", choices=[SelectChoice(k, FLAG_LABELS[k]) for k in FLAGS],
                            validators=[Optional()])
    flag_other = StringField("Other risk (if ticked)", validators=[Optional(), Length(max=200)])
    reason = TextAreaField("Reason for this risk level or change", validators=[Length(max=1000)])


class PersonForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=120)])  # required: checked with the rest in the service
    known_as = StringField("Known as", validators=[Optional(), Length(max=120)])
    pronouns = StringField("Pronouns", validators=[Optional(), Length(max=40)])
    date_of_birth = DateField("Date of birth (if known)", validators=[Optional(), WithinCalendar()])
    phone = StringField("Phone", validators=[Optional(), Length(max=32)], render_kw={"inputmode": "tel"})
    address = StringField("Address or usual area", validators=[Optional(), Length(max=300)])
    key_worker_id = SelectField("Key worker", coerce=int_or_none, validate_choice=False)
    # Status is not edited here: a case closes with a reason (Close case) and reopens with one.
    consent_to_share = RadioField("Consent to share with partner agencies",
                                  choices=[SelectChoice(k, v) for k, v in CONSENT_LABELS.items()], default="not_asked")
    consent_recorded_on = DateField("Date consent was asked", validators=[Optional(), WithinCalendar()])
    sms_reminders = BooleanField("They agreed to be texted appointment reminders")
    before_you_visit = TextAreaField("Before you visit (what a colleague must know at the door)",
                                     validators=[Length(max=2000)])


class NewPersonForm(RiskFieldsMixin, PersonForm):
    pass


class RiskForm(RiskFieldsMixin, FlaskForm):
    pass


class SearchForm(FlaskForm):
    q = StringField("Search by name, known-as or address", validators=[Optional(), Length(max=100)])
    scope = SelectField("Whose", choices=[SelectChoice("team", "My team"), SelectChoice("mine", "My people")],
                        default="team")
    risk = SelectField("Risk", choices=[SelectChoice("", "Any risk")] + [SelectChoice(k, v) for k, v in RISK_LABELS.items()],
                       default="", validate_choice=False)
    status = SelectField("Status", choices=[SelectChoice("open", "Open"), SelectChoice("closed", "Closed")],
                         default="open")
    overdue = SelectField("Contact", choices=[SelectChoice("", "Everyone"), SelectChoice("1", "Overdue for contact")],
                          default="")
    # Sent by "Show more" only (a hidden field of its own form), never drawn in the filters.
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=1000)])


class CloseCaseForm(FlaskForm):
    # The rules (a reason, a note for "other") are the service's, so a refused form keeps what was typed.
    reason = RadioField("Why is the case closing?", choices=[SelectChoice(k, v) for k, v in CLOSE_REASON_LABELS.items()],
                        validate_choice=False)
    note = TextAreaField("Note (what happened, who took over)", validators=[Length(max=1000)])


class ReopenCaseForm(FlaskForm):
    note = TextAreaField("Why is the case reopening?", validators=[Length(max=1000)])
