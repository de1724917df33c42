from flask_wtf.file import FileField
from wtforms import (BooleanField, DateTimeLocalField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import NulFreeForm, WithinCalendar, int_or_none, without_nul  # noqa: F401 (for sessions.py)


Form = NulFreeForm


# Numbers are checked by the service with everything else, so all problems show at once.
class ProgrammeForm(Form):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    session_count = IntegerField("Number of sessions", default=12, validators=[Optional()],
                                 render_kw={"inputmode": "numeric"})
    complete_percent = IntegerField("Share of sessions that completes it (%)", default=80,
                                    validators=[Optional()], render_kw={"inputmode": "numeric"})
    must_attend_first = BooleanField("The first session must be attended", default=True)
    must_attend_last = BooleanField("The final session must be attended", default=True)


class PlanForm(Form):
    topic = StringField("Topic", validators=[Optional(), Length(max=200)])
    aims = TextAreaField("Aims (optional)", validators=[Optional(), Length(max=5000)])
    facilitator_notes = TextAreaField("Facilitator's notes (optional)", validators=[Optional(), Length(max=10000)])


class MaterialForm(Form):
    file = FileField("Attach a file (PDF, Word, PowerPoint or an image)")


class GroupForm(Form):
    programme_id = SelectField("Programme", coerce=int_or_none, validate_choice=False)
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    venue = StringField("Venue", validators=[Optional(), Length(max=300)])
    starts_local = DateTimeLocalField("First session starts", format="%Y-%m-%dT%H:%M",
                                      validators=[Optional(), WithinCalendar()])
    duration_minutes = IntegerField("Length of a session (minutes)", default=120,
                                    validators=[Optional()], render_kw={"inputmode": "numeric"})
    repeat = RadioField("Meets", choices=[SelectChoice("weekly", "Every week"),
                                          SelectChoice("fortnightly", "Every fortnight")], default="weekly",
                        validate_choice=False)
    capacity = IntegerField("Places", default=12, validators=[Optional()],
                            render_kw={"inputmode": "numeric"})
    facilitator_ids = SelectMultipleField("Facilitators", coerce=int, validate_choice=False,
                                          widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    enforceable = BooleanField("Attendance counts towards orders (enforceable)")


class EnrolForm(Form):
    person_id = SelectField("Person", coerce=int_or_none, validate_choice=False)
    despite_other_group = BooleanField("Enrol them here anyway")
    override_reason = TextAreaField("Supervisor's reason for enrolling them despite this",
                                    validators=[Optional(), Length(max=1000)])


class MoveForm(Form):
    group_id = SelectField("Move to", coerce=int_or_none, validate_choice=False)
    override_reason = TextAreaField("Supervisor's reason (only if they must not meet someone there)",
                                    validators=[Optional(), Length(max=1000)])


class FinishForm(Form):
    outcome = RadioField("Outcome", choices=[SelectChoice("completed", "Completed"),
                                             SelectChoice("not_completed", "Did not complete")],
                         validate_choice=False)
    reason = TextAreaField("Reason (needed when they did not complete)", validators=[Optional(), Length(max=1000)])


class KeepApartForm(Form):
    other_person_id = SelectField("Keep apart from", coerce=int_or_none, validate_choice=False)
    reason = TextAreaField("Why", validators=[Optional(), Length(max=1000)])
