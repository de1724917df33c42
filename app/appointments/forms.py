from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DateTimeLocalField, HiddenField, IntegerField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from app.forms import WithinCalendar, int_or_none
from app.models.appointments import APPOINTMENT_KINDS, OUTCOMES, REPEATS
from app.services.appointments import KIND_LABELS, OUTCOME_LABELS, REPEAT_LABELS


class AppointmentForm(FlaskForm):
    # Checked by the service with everything else, so all problems show at once.
    person_id = SelectField("With", coerce=int_or_none, validate_choice=False)
    kind = RadioField("Kind", choices=[SelectChoice(k, KIND_LABELS[k]) for k in APPOINTMENT_KINDS],
                      default="home_visit", validate_choice=False)
    starts_local = DateTimeLocalField("Starts", format="%Y-%m-%dT%H:%M", validators=[Optional(), WithinCalendar()])
    duration_minutes = IntegerField("Length (minutes)", default=60, validators=[Optional(), NumberRange(5, 480)],
                                    render_kw={"inputmode": "numeric"})
    place = StringField("Where (optional)", validators=[Optional(), Length(max=300)])
    notes = TextAreaField("Notes (optional)", validators=[Optional(), Length(max=5000)])
    repeat = SelectField("Repeats", choices=[SelectChoice(k, REPEAT_LABELS[k]) for k in REPEATS], default="none",
                         validate_choice=False)
    repeat_until = DateField("Last date (optional)", validators=[Optional(), WithinCalendar()])


class OccurrenceForm(FlaskForm):
    on = HiddenField()  # which occurrence: its start as the series has it (local time)


class OutcomeForm(OccurrenceForm):
    outcome = RadioField("What happened?", choices=[SelectChoice(k, OUTCOME_LABELS[k]) for k in OUTCOMES],
                         validate_choice=False)
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])
    made_at = HiddenField()


class MoveForm(OccurrenceForm):
    starts_local = DateTimeLocalField("New time for this one", format="%Y-%m-%dT%H:%M",
                                      validators=[Optional(), WithinCalendar()])
    place = StringField("Where (optional)", validators=[Optional(), Length(max=300)])
    cancel = BooleanField("Cancel just this one")


class RemindersForm(FlaskForm):
    remind_evening_before = BooleanField("Remind me the evening before (18:00)")
    remind_minutes_before = SelectField("And before it starts", coerce=int, choices=[
        SelectChoice("0", "No reminder"), SelectChoice("15", "15 minutes before"),
        SelectChoice("30", "30 minutes before"), SelectChoice("60", "1 hour before"),
        SelectChoice("120", "2 hours before")])


class WeekForm(FlaskForm):
    class Meta:
        csrf = False

    week = DateField("Week of", validators=[Optional(), WithinCalendar()])
