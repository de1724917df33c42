"""Small pieces shared by the feature forms."""
from wtforms.validators import ValidationError

from app.services.calendar import within_calendar


def int_or_none(value):
    """Coerce for a select whose empty choice means "none": "" (or None) -> None, else an int."""
    return int(value) if value not in (None, "", "None") else None


class WithinCalendar:
    """A typed date or time between 1900 and 2199 (see services/calendar.py for why)."""

    def __call__(self, form, field):
        if field.data is not None and not within_calendar(field.data):
            raise ValidationError("Enter a date between 1900 and 2199.")
