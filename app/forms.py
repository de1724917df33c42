"""Small pieces shared by the feature forms."""
from wtforms.validators import ValidationError

from app.services.calendar import within_calendar


# Database ids are 64-bit: a longer number in a link or a form names no record (and the database
# driver refuses to even send it).
LARGEST_ID = 2**63 - 1


def record_id(value) -> int | None:
    """An id from a query string or form field, or None when it can't be one ("", "x", "²", 10**20)."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit()) or int(text) > LARGEST_ID:
        return None
    return int(text)


def int_or_none(value):
    """Coerce for a select whose empty choice means "none": "" (or None) -> None, else an id
    (anything else is refused by the field as an invalid choice)."""
    if value in (None, "", "None"):
        return None
    if isinstance(value, int):
        return value
    found = record_id(value)
    if found is None:
        raise ValueError("not an id")
    return found


class WithinCalendar:
    """A typed date or time between 1900 and 2199 (see services/calendar.py for why)."""

    def __call__(self, form, field):
        if field.data is not None and not within_calendar(field.data):
            raise ValidationError("Enter a date between 1900 and 2199.")
