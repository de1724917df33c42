"""Small pieces shared by the feature forms."""
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from app.services.calendar import within_calendar


# Ids are 32-bit (INTEGER, int4 on PostgreSQL): a larger number in a link or a form names no
# record, and PostgreSQL refuses to even compare it with an id (an error, not "not found").
LARGEST_ID = 2**31 - 1


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


def an_id(value) -> int:
    """Coerce for a multiple choice of records: anything that can't be an id is an invalid choice."""
    found = value if isinstance(value, int) else record_id(value)
    if found is None or not 0 < found <= LARGEST_ID:
        raise ValueError("not an id")
    return found


def without_nul(value):
    """PostgreSQL refuses a NUL character in text: it is never meant, so it is dropped."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class NulFreeForm(FlaskForm):
    """A form whose every field drops NUL characters (see `without_nul`)."""
    class Meta:
        def bind_field(self, form, unbound_field, options):
            options["filters"] = [*unbound_field.kwargs.get("filters", ()), without_nul]
            return unbound_field.bind(form=form, **options)


class WithinCalendar:
    """A typed date or time between 1900 and 2199 (see services/calendar.py for why)."""

    def __call__(self, form, field):
        if field.data is not None and not within_calendar(field.data):
            raise ValidationError("Enter a date between 1900 and 2199.")
