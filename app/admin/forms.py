from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import PasswordInput

ROLE_CHOICES = [SelectChoice("worker", "Worker"), SelectChoice("supervisor", "Supervisor"), SelectChoice("admin", "Admin")]


NO_TEAM = "none"


def _team_or_none(value):
    """A team's id; None for "No team"; "" while no choice has been made."""
    if value == "":
        return ""
    return int(value) if value not in (None, "None", NO_TEAM) else None


# A refused form keeps the password that was typed (the page goes back, uncached, only to the
# admin who just sent it), so fixing a typo in the email does not mean choosing a password again.
KEEP_TYPED = PasswordInput(hide_value=False)


class UserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter the person's name."), Length(max=100)])
    email = EmailField("Email", validators=[DataRequired("Enter an email address."), Length(max=254)],
                       render_kw={"autocapitalize": "none", "inputmode": "email"})
    role = SelectField("Role", choices=ROLE_CHOICES, default="worker")
    team_id = SelectField("Team", coerce=_team_or_none, validate_choice=False)
    phone = StringField("Mobile number", validators=[Optional(), Length(max=32)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})


class NewUserForm(UserForm):
    password = PasswordField("Password (at least 12 characters)",
                             validators=[DataRequired("Set a password.")], widget=KEEP_TYPED,
                             render_kw={"autocomplete": "new-password"})


class EditUserForm(UserForm):
    active = BooleanField("Account is active (can sign in)")
    new_password = PasswordField("New password (leave empty to keep the current one)",
                                 validators=[Optional()], widget=KEEP_TYPED,
                                 render_kw={"autocomplete": "new-password"})


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
