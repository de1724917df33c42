from flask_wtf import FlaskForm
from wtforms import HiddenField


class ButtonForm(FlaskForm):
    """A button that changes something: no fields, only the CSRF token."""


class OneDeviceForm(FlaskForm):
    device = HiddenField()
