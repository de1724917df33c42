from flask_wtf import FlaskForm
from wtforms import (BooleanField, FloatField, HiddenField, IntegerField, PasswordField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.forms import int_or_none

PRESETS = (15, 30, 45, 60, 90, 120)


class LocationMixin:
    latitude = FloatField(validators=[Optional(), NumberRange(-90, 90)], widget=HiddenField.widget)
    longitude = FloatField(validators=[Optional(), NumberRange(-180, 180)], widget=HiddenField.widget)
    accuracy = FloatField(validators=[Optional(), NumberRange(0, 100000)], widget=HiddenField.widget)


class StartVisitForm(LocationMixin, FlaskForm):
    # Choices are the team's open caseload, set by the route.
    person_id = SelectField("Who are you visiting? (optional)", coerce=int_or_none,
                            validators=[Optional()])
    place = StringField("Where are you going?", validators=[Length(max=300)],
                        render_kw={"autocomplete": "off"})
    minutes = RadioField("How long?", choices=[SelectChoice(str(m), f"{m} min") for m in PRESETS]
                         + [SelectChoice("custom", "Other")], default="30",
                         validators=[DataRequired("Choose how long the visit will take.")])
    custom_minutes = IntegerField("Other length (minutes)", validators=[Optional(), NumberRange(1, 1440)],
                                  render_kw={"inputmode": "numeric"})
    every_minutes = SelectField("Check in during the visit", coerce=int_or_none, choices=[
        SelectChoice("", "No, only at the end"), SelectChoice("15", "Every 15 min"),
        SelectChoice("30", "Every 30 min"), SelectChoice("60", "Every hour")], default="")
    sealed_notes = TextAreaField("Sealed notes for responders (optional)", validators=[Length(max=2000)])

    def validate_custom_minutes(self, field) -> None:
        # What was typed is never ignored: a length typed beside a different chip is a question back.
        chip = self.minutes.data or ""
        if field.data is not None and chip.isdigit() and int(chip) != field.data:
            raise ValidationError(f"You typed {field.data} minutes but chose {chip} min: choose Other to use "
                                  f"{field.data} minutes, or clear this box.")

    def chosen_minutes(self) -> int | None:
        if self.minutes.data == "custom":
            return self.custom_minutes.data
        return int(self.minutes.data) if (self.minutes.data or "").isdigit() else None


class PinForm(LocationMixin, FlaskForm):
    pin = PasswordField("PIN", validators=[Optional(), Length(max=8)],
                        render_kw={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"})
    made_at = HiddenField()  # when the worker tapped it (set by the phone; kept for offline sends)


class CrisisForm(LocationMixin, FlaskForm):
    made_at = HiddenField()  # when the button was held (an alarm queued with no signal arrives later)


class ExtendForm(FlaskForm):
    minutes = IntegerField("Extend by (minutes)", validators=[DataRequired("Say how many minutes."),
                                                              NumberRange(1, 1440, "Between 1 and 1440 minutes.")],
                           render_kw={"inputmode": "numeric"})
    made_at = HiddenField()


class SafetySettingsForm(FlaskForm):
    pin = PasswordField("Normal PIN (4 to 8 digits; leave empty for no PIN)", validators=[Optional()],
                        render_kw={"inputmode": "numeric", "autocomplete": "new-password"})
    duress_pin = PasswordField("Duress PIN (a different 4 to 8 digits)", validators=[Optional()],
                               render_kw={"inputmode": "numeric", "autocomplete": "new-password"})
    buddy_id = SelectField("Your buddy (gets your alerts first)", coerce=int_or_none, validate_choice=False)
    description = TextAreaField("How responders can recognise you", validators=[Length(max=300)])


class ResolveForm(FlaskForm):
    outcome = RadioField("What happened?", choices=[
        SelectChoice("false_alarm", "Worker safe — false alarm"),
        SelectChoice("incident", "Worker safe — incident"),
        SelectChoice("emergency_services", "Emergency services called")],
        validators=[DataRequired("Choose what happened.")])
    note = TextAreaField("Note", validators=[Length(max=2000)])


class TeamSafetyForm(FlaskForm):
    duty_supervisor_id = SelectField("Fallback duty supervisor (gets alerts first when a worker has no buddy and no "
                                     "shift on the rota covers)",
                                     coerce=int_or_none, validate_choice=False)
    duty_phone = StringField("Duty phone number", validators=[Optional(), Length(max=32)],
                             render_kw={"inputmode": "tel"})
    grace_seconds = IntegerField("Grace period (seconds)", validators=[NumberRange(30, 3600, "Between 30 and 3600 seconds.")])
    escalation_seconds = IntegerField("Time between escalation levels (seconds)",
                                      validators=[NumberRange(30, 3600, "Between 30 and 3600 seconds.")])
    min_visit_minutes = IntegerField("Shortest visit (minutes)", validators=[NumberRange(1, 1440, "Between 1 and 1440 minutes.")])
    max_visit_minutes = IntegerField("Longest visit (minutes)", validators=[NumberRange(1, 1440, "Between 1 and 1440 minutes.")])
    silent_crisis = BooleanField("Silent Crisis button: after an alarm the worker's screen shows a neutral page, "
                                 "not \"help has been alerted\"")
    pin_policy = RadioField("PIN to check in and end a visit", choices=[
        SelectChoice("optional", "Each worker chooses"), SelectChoice("required", "Required for everyone")])
