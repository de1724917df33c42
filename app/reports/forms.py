from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField, TextAreaField
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
