"""The plan's forms. The rules (what is required, dates in the past) are the service's: the forms
only read what was typed, so a refused form comes back with every answer kept."""
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.forms import WithinCalendar
from app.services.plans import (AGREEMENT_LABELS, AREA_LABELS, GOAL_STATUS_LABELS, STEP_OWNER_LABELS,
                                STEP_STATUS_LABELS, TEXT_LIMIT)

TARGET_CHOICES = [SelectChoice("3", "3 months"), SelectChoice("6", "6 months"), SelectChoice("12", "12 months"),
                  SelectChoice("date", "A date")]


def _choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(k, v) for k, v in labels.items()]


class GoalForm(FlaskForm):
    area = RadioField("Area of need", choices=_choices(AREA_LABELS), validate_choice=False)
    wants = TextAreaField("What they want to achieve, in their words", validators=[Length(max=TEXT_LIMIT)])
    how_we_know = TextAreaField("How we will know", validators=[Length(max=TEXT_LIMIT)])
    measure = SelectField("A measure that shows it (optional)", validate_choice=False)
    target = RadioField("Target", choices=TARGET_CHOICES, default="3", validate_choice=False)
    target_on = DateField("Target date", validators=[Optional(), WithinCalendar()])
    related_areas = SelectMultipleField("Related areas", choices=_choices(AREA_LABELS), validate_choice=False,
                                        option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False))
    status = RadioField("Status", choices=_choices(GOAL_STATUS_LABELS), default="active", validate_choice=False)
    status_reason = TextAreaField("Why (when achieved or no longer needed)", validators=[Length(max=TEXT_LIMIT)])


class StepForm(FlaskForm):
    what = TextAreaField("What the step is", validators=[Length(max=TEXT_LIMIT)])
    owner = RadioField("Who does it", choices=_choices(STEP_OWNER_LABELS), validate_choice=False)
    owner_name = StringField("Which service, or who", validators=[Length(max=400)])
    due_on = DateField("By when (optional)", validators=[Optional(), WithinCalendar()])
    status = RadioField("Status", choices=_choices(STEP_STATUS_LABELS), default="not_started", validate_choice=False)


class StepStatusForm(FlaskForm):
    status = SelectField("Status", choices=_choices(STEP_STATUS_LABELS), validate_choice=False)


class AgreementForm(FlaskForm):
    answer = RadioField("Their answer", choices=_choices(AGREEMENT_LABELS), validate_choice=False)
    why = TextAreaField("Why", validators=[Length(max=TEXT_LIMIT)])
    comment = TextAreaField("Their own comment (optional)", validators=[Length(max=TEXT_LIMIT)])
    version = SelectField("Agreeing to", validate_choice=False)


class ReviewForm(FlaskForm):
    next_on = DateField("Next review (leave empty for the usual interval)", validators=[Optional(), WithinCalendar()])


class CloseForm(FlaskForm):
    warning_signs = TextAreaField("Warning signs", validators=[Length(max=TEXT_LIMIT)])
    what_helps = TextAreaField("What helps", validators=[Length(max=TEXT_LIMIT)])
    who_to_contact = TextAreaField("Who to contact", validators=[Length(max=TEXT_LIMIT)])
    signposted = TextAreaField("Services signposted", validators=[Length(max=TEXT_LIMIT)])


class RangeForm(FlaskForm):
    """The manager's date range (GET: dates are not personal data, and the page can be bookmarked)."""
    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional(), WithinCalendar()])
    end = DateField("To", validators=[Optional(), WithinCalendar()])
