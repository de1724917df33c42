from flask_wtf import FlaskForm
from wtforms import (DateField, DateTimeLocalField, IntegerField, RadioField, SelectField, SelectMultipleField,
                     TextAreaField, TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import WithinCalendar, int_or_none
from app.services.rota import WEEKDAYS


class ShiftForm(FlaskForm):
    supervisor_id = SelectField("Duty supervisor", coerce=int_or_none, validate_choice=False)
    weekdays = SelectMultipleField("Days", coerce=int, choices=[SelectChoice(i, day) for i, day in enumerate(WEEKDAYS)],
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    starts = TimeField("Starts", validators=[Optional()])
    ends = TimeField("Ends", validators=[Optional()])


class ChangeForm(FlaskForm):
    supervisor_id = SelectField("Duty supervisor", coerce=int_or_none, validate_choice=False)
    starts_at = DateTimeLocalField("From", format="%Y-%m-%dT%H:%M", validators=[Optional(), WithinCalendar()])
    ends_at = DateTimeLocalField("Until", format="%Y-%m-%dT%H:%M", validators=[Optional(), WithinCalendar()])


class LeaveForm(FlaskForm):
    user_id = SelectField("Who is away", coerce=int_or_none, validate_choice=False)
    starts_on = DateField("First day away", validators=[Optional(), WithinCalendar()])
    ends_on = DateField("Last day away", validators=[Optional(), WithinCalendar()])
    cover_id = SelectField("Who covers", coerce=int_or_none, validate_choice=False)


class AllocateForm(FlaskForm):
    worker_id = RadioField("Allocate to", coerce=int_or_none, validate_choice=False)
    note = TextAreaField("Handover note (optional)", validators=[Length(max=2000)])


class WeightingForm(FlaskForm):
    points_low = IntegerField("Low risk", validators=[Optional()])
    points_medium = IntegerField("Medium risk", validators=[Optional()])
    points_high = IntegerField("High risk", validators=[Optional()])
    points_very_high = IntegerField("Very high risk", validators=[Optional()])
    full_time_points = IntegerField("Points a full-time worker carries (100 %)", validators=[Optional()])


class CapacityForm(FlaskForm):
    user_id = SelectField("Worker", coerce=int_or_none, validate_choice=False)
    percent = IntegerField("Capacity (%)", validators=[Optional()], render_kw={"inputmode": "numeric"})
