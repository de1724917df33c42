from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

ROLE_CHOICES = [SelectChoice("worker", "Worker"), SelectChoice("supervisor", "Supervisor"), SelectChoice("admin", "Admin")]


NO_TEAM = "none"


def _team_or_none(value):
    """A team's id; None for "No team"; "" while no choice has been made."""
    if value == "":
        return ""
    return int(value) if value not in (None, "None", NO_TEAM) else None


class UserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter the person's name."), Length(max=100)])
    email = EmailField("Email", validators=[DataRequired("Enter an email address."), Length(max=254)],
                       render_kw={"autocapitalize": "none", "inputmode": "email"})
    role = SelectField("Role", choices=ROLE_CHOICES, default="worker")
    team_id = SelectField("Team", coerce=_team_or_none, validate_choice=False)
    phone = StringField("Mobile number", validators=[Optional(), Length(max=32)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})


class NewUserForm(UserForm):
    """No password: the person chooses their own from the emailed invitation."""


class EditUserForm(UserForm):
    active = BooleanField("Account is active (can sign in)")


class TeamForm(FlaskForm):
    name = StringField("Team name", validators=[DataRequired("Give the team a name."), Length(max=100)])
    duty_phone = StringField("Duty phone number (for Crisis texts with no data signal)",
                             validators=[Optional(), Length(max=32)], render_kw={"inputmode": "tel"})
    grace_seconds = IntegerField("Grace period after a missed check-in (seconds)",
                                 validators=[NumberRange(30, 3600, "Between 30 and 3600 seconds.")],
                                 render_kw={"inputmode": "numeric"})
    escalation_seconds = IntegerField("Time before escalating to the next level (seconds)",
                                      validators=[NumberRange(30, 3600, "Between 30 and 3600 seconds.")],
                                      render_kw={"inputmode": "numeric"})
    min_visit_minutes = IntegerField("Shortest visit timer (minutes)",
                                     validators=[NumberRange(1, 1440, "Between 1 and 1440 minutes.")],
                                     render_kw={"inputmode": "numeric"})
    max_visit_minutes = IntegerField("Longest visit timer (minutes)",
                                     validators=[NumberRange(1, 1440, "Between 1 and 1440 minutes.")],
                                     render_kw={"inputmode": "numeric"})
    second_factor_for_all = BooleanField("Everyone in this team signs in with a second factor "
                                         "(supervisors and admins always do)")


class EndSessionsForm(FlaskForm):
    """"Sign out everywhere": no fields, only the CSRF token."""
