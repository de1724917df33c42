"""The measure forms. The items themselves are drawn from the instrument's module and read by
`answers_from` (the instrument's own scoring says what is missing or out of range)."""
import re

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from app.instruments import Instrument
from app.services.measures import LICENCES

ANSWERED_CHOICES = [SelectChoice("alone", "They answered themselves"),
                    SelectChoice("with_help", "With help (I read it out or explained)")]
NOT_A_NUMBER = -1  # scored as "not one of this question's options"


class MeasureForm(FlaskForm):
    answered = RadioField("Who answered", choices=ANSWERED_CHOICES, default="alone", validate_choice=False)
    declined_reason = TextAreaField("Why not", validators=[Length(max=2000)])
    made_at = HiddenField()  # when it was asked, stamped by the phone (kept for offline sends)


class CorrectionForm(FlaskForm):
    answered = RadioField("Who answered", choices=ANSWERED_CHOICES, validate_choice=False)
    correction_reason = TextAreaField("Why the answers are being corrected", validators=[Length(max=2000)])


class LicenceForm(FlaskForm):
    licence = SelectField("Licence", choices=[SelectChoice(k, v) for k, v in LICENCES.items()], validate_choice=False)
    held = RadioField("The organisation", choices=[SelectChoice("yes", "Holds this licence"), SelectChoice("no", "No longer holds it")],
                      default="yes", validate_choice=False)
    note = TextAreaField("Licence reference or who granted it", validators=[Length(max=1000)])


class ScaleForm(FlaskForm):
    name = StringField("Short name", validators=[Length(max=200)])
    question = StringField("The question, as it will be asked", validators=[Length(max=400)])
    low_label = StringField("What 0 means", validators=[Length(max=200)])
    high_label = StringField("What 10 means", validators=[Length(max=200)])
    higher_is_worse = RadioField("A higher score is", choices=[SelectChoice("better", "Better"),
                                                                SelectChoice("worse", "Worse")],
                                 default="better", validate_choice=False)


class RetireForm(FlaskForm):
    pass


def answers_from(formdata, instrument: Instrument) -> dict[str, int | None]:
    answers = {}
    for item in instrument.items:
        raw = (formdata.get(item.key) or "").strip()
        answers[item.key] = None if raw == "" else int(raw) if re.fullmatch(r"-?\d{1,3}", raw) else NOT_A_NUMBER
    return answers
