from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField, TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.forms import int_or_none
from app.models.referrals import ROUTES
from app.services.referrals import BASES, DASH_ANSWERS, DASH_QUESTIONS, ROUTE_TEMPLATES, STATUS_LABELS

DASH_LABELS = {"yes": "Yes", "no": "No", "not_known": "Not known"}


def referral_form(route: str):
    """The form for one route: the common fields plus that route's own questions (and DASH)."""
    template = ROUTE_TEMPLATES[route]

    class ReferralForm(FlaskForm):
        partner_id = SelectField("Send to", coerce=int_or_none, validate_choice=False)
        summary = TextAreaField("About the person (filled in from their record; change what the service "
                                "does not need)", validators=[Length(max=10000)])
        lawful_basis = RadioField("Lawful basis for sharing", choices=[SelectChoice(k, v) for k, v in BASES.items()],
                                  validate_choice=False)
        basis_reason = TextAreaField("Why sharing without consent is necessary", validators=[Length(max=3000)])
        ask_approval = BooleanField("Ask a supervisor to approve before it is sent")

    for question in template.questions:
        field = (TextAreaField if question.long else StringField)(
            question.label + ("" if question.required else " (optional)"), validators=[Length(max=5000)])
        setattr(ReferralForm, f"q_{question.name}", field)
    if route == "domestic_abuse":
        for number, text in enumerate(DASH_QUESTIONS, 1):
            setattr(ReferralForm, f"dash_{number}", RadioField(
                f"{number}. {text}", choices=[SelectChoice(a, DASH_LABELS[a]) for a in DASH_ANSWERS],
                validate_choice=False))
        ReferralForm.marac_judgement = BooleanField("Refer to MARAC on professional judgement, whatever the score")
    return ReferralForm


class StatusForm(FlaskForm):
    # No choice is made for the worker: the first option is "Choose…", so one tap changes nothing.
    status = SelectField("What has happened?", choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()],
                         validate_choice=False, validators=[DataRequired("Choose what has happened.")])
    note = TextAreaField("Note (optional)", validators=[Length(max=2000)])


class PartnerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the service a name."), Length(max=150)])
    route = SelectField("Kind of service", choices=[SelectChoice(k, ROUTE_TEMPLATES[k].label) for k in ROUTES])
    phone = StringField("Phone", validators=[Optional(), Length(max=32)], render_kw={"inputmode": "tel"})
    secure_email = EmailField("Secure email", validators=[Optional(), Length(max=254)])
    open_days = StringField("Days open (1 = Monday … 7 = Sunday)", default="12345",
                            validators=[DataRequired("Say which days it is open."), Length(max=7)])
    opens_at = TimeField("Opens at (empty: all day)", validators=[Optional()])
    closes_at = TimeField("Closes at", validators=[Optional()])
    area = StringField("Area covered", validators=[Optional(), Length(max=150)])
    active = BooleanField("In use", default=True)
