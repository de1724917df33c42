from flask_wtf import FlaskForm
from wtforms import BooleanField


class PreferencesForm(FlaskForm):
    reminder_push = BooleanField("Push to my phone")
    reminder_email = BooleanField("Email")
    reminder_sms = BooleanField("Text message (SMS)")
    referral_push = BooleanField("Push to my phone")
    referral_email = BooleanField("Email")
    referral_sms = BooleanField("Text message (SMS)")

    KINDS = ("reminder", "referral")

    def choices(self) -> dict[str, set[str]]:
        return {
            kind: {channel for channel in ("push", "email", "sms") if self[f"{kind}_{channel}"].data}
            for kind in self.KINDS
        }

    def fill(self, chosen: dict[str, set[str]]) -> None:
        for kind in self.KINDS:
            for channel in ("push", "email", "sms"):
                self[f"{kind}_{channel}"].data = channel in chosen.get(kind, set())
