from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, DateTimeLocalField, FloatField, HiddenField, IntegerField, RadioField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.caseload.forms import CheckboxesField
from app.forms import WithinCalendar
from app.models import CONTACT_TYPES, NEEDS
from app.services.contacts import NEED_LABELS, TYPE_LABELS


class ContactForm(FlaskForm):
    person_id = HiddenField("Who")  # drawn by hand as a list of people to choose from
    street_description = StringField("Or: a new street contact (describe them)", validators=[Optional(), Length(max=300)])
    # Required, but checked by the service together with everything else, so all problems show at once.
    contact_type = RadioField("Kind of contact", choices=[SelectChoice(k, TYPE_LABELS[k]) for k in CONTACT_TYPES],
                              default="face_to_face", validate_choice=False)
    happened_at = DateTimeLocalField("When", format="%Y-%m-%dT%H:%M", validators=[Optional(), WithinCalendar()])
    duration_minutes = IntegerField("Duration (minutes)", validators=[Optional(), NumberRange(0, 1440)],
                                    render_kw={"inputmode": "numeric"})
    location_text = StringField("Where (optional)", validators=[Optional(), Length(max=200)])
    latitude = FloatField(validators=[Optional(), NumberRange(-90, 90)], widget=HiddenField.widget)
    longitude = FloatField(validators=[Optional(), NumberRange(-180, 180)], widget=HiddenField.widget)
    needs = CheckboxesField("Needs discussed", choices=[SelectChoice(k, NEED_LABELS[k]) for k in NEEDS],
                            validators=[Optional()])
    notes = TextAreaField("Notes", validators=[Length(max=20000)])
    actions_agreed = TextAreaField("Actions agreed", validators=[Length(max=5000)])
    follow_up_on = DateField("Follow up on", validators=[Optional(), WithinCalendar()])
    safeguarding_concern = BooleanField("Safeguarding concern (your supervisor is told)")
    risk_changed = BooleanField("Risk has changed (opens the risk review)")
    photos = FileField("Photos (optional)", render_kw={"accept": "image/*", "multiple": True})


class AddendumForm(FlaskForm):
    text = TextAreaField("Addendum", validators=[DataRequired("Write the addendum."), Length(max=5000)])


class DeleteForm(FlaskForm):
    reason = TextAreaField("Reason for removing this contact", validators=[DataRequired("Give the reason."),
                                                                           Length(max=500)])


class MatchForm(FlaskForm):
    person_id = HiddenField(validators=[DataRequired("Choose the person.")])
