"""The span of dates Fieldline works with, and reading a moment given in a link.

Python's dates stop at years 1 and 9999, so a date near either end (`?on=9999-12-31T23:59`)
overflows as soon as a rule adds a window, a day or a time zone to it. Everything a person types or
a link carries is kept within 1900-2199, far inside that.
"""
from __future__ import annotations

from datetime import date, datetime

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def within_calendar(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


def moment_from_link(value: str | None) -> datetime | None:
    """A local moment from a query string or hidden field (`2026-11-24T10:00`); None when it is not
    one, or is outside the span."""
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    # Local wall-clock time only: a moment with an offset can't be compared with the stored ones.
    return moment if moment.tzinfo is None and within_calendar(moment) else None
