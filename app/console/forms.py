from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
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
