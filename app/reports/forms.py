from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.forms import WithinCalendar
from app.services.reports import TEMPLATES


class NewReportForm(FlaskForm):
    template = RadioField("Which report", choices=[SelectChoice(t.key, t.label) for t in TEMPLATES.values()],
                          validate_choice=False)
    audience = StringField("Who it is for", validators=[Length(max=200)])
    period_start = DateField("Period from", validators=[Optional(), WithinCalendar()])
    period_end = DateField("Period to", validators=[Optional(), WithinCalendar()])


class ReturnForm(FlaskForm):
    comments = TextAreaField("What needs changing", validators=[DataRequired("Say what needs changing."),
                                                                 Length(max=5000)])


class NewRequestForm(FlaskForm):
    person_ref = IntegerField("Person's reference number", validators=[Optional()])
    received_on = DateField("Received on", validators=[Optional(), WithinCalendar()])


class ExtendForm(FlaskForm):
    reason = TextAreaField("Why it needs two more months", validators=[Length(max=2000)])


class LegalHoldForm(FlaskForm):
    hold = BooleanField("Keep everything: nothing is deleted while this is on")
    reason = StringField("Why (a claim, an inquiry, a court order)", validators=[Length(max=500)])


class EraseForm(FlaskForm):
    reason = TextAreaField("Why the record is being erased", validators=[Length(max=500)])


def retention_form(kinds):
    class RetentionForm(FlaskForm):
        pass

    for key, kind in kinds.items():
        setattr(RetentionForm, key, IntegerField(f"{kind.label}: days kept {kind.counted_from}",
                                                 validators=[Optional()]))
    return RetentionForm
