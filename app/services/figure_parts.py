"""What team figures are made of: the period they count over (a month or a quarter, from local
midnight on its first day to local midnight on the first day after it, beside the period of the same
length before) and the tables they are shown in (the page's table and its CSV are one thing)."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    first_day: date
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    months: int = 1  # 1: a month, 3: a quarter

    @property
    def after(self) -> date:
        """The first day after the period."""
        return add_months(self.first_day, self.months)

    @property
    def is_quarter(self) -> bool:
        return self.months == 3

    @property
    def label(self) -> str:
        if self.is_quarter:
            last = add_months(self.first_day, 2)
            return f"{self.first_day:%B}–{last:%B %Y}"
        return f"{self.first_day:%B %Y}"

    @property
    def key(self) -> str:
        """"2026-11" for a month, "2026-Q4" for a quarter (what the page's address carries)."""
        if self.is_quarter:
            return f"{self.first_day.year}-Q{(self.first_day.month - 1) // 3 + 1}"
        return f"{self.first_day:%Y-%m}"

    @property
    def local_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as the organisation's wall-clock time (appointments are kept that way)."""
        return datetime.combine(self.first_day, time()), datetime.combine(self.after, time())


def month(first_day: date, zone: ZoneInfo, months: int = 1) -> Period:
    first_day = first_day.replace(day=1)
    start = datetime.combine(first_day, time()).replace(tzinfo=zone)
    end = datetime.combine(add_months(first_day, months), time()).replace(tzinfo=zone)
    return Period(first_day, start.astimezone(UTC), end.astimezone(UTC), months)


def quarter(day: date, zone: ZoneInfo) -> Period:
    """The calendar quarter holding `day`."""
    return month(date(day.year, (day.month - 1) // 3 * 3 + 1, 1), zone, 3)


def previous(period: Period, zone: ZoneInfo) -> Period:
    return month(add_months(period.first_day, -period.months), zone, period.months)


def following(period: Period, zone: ZoneInfo) -> Period:
    return month(period.after, zone, period.months)


def parse(text: str | None, today: date, zone: ZoneInfo) -> Period | None:
    """"2026-11" -> that month; "2026-Q4" -> that quarter; nothing: this month; anything else: None."""
    if not text:
        return month(today, zone)
    found = re.fullmatch(r"(\d{4})-(?:(\d{1,2})|Q([1-4]))", text.strip())
    if not found or not 2000 <= int(found[1]) <= 2199:
        return None
    year = int(found[1])
    if found[3]:
        return quarter(date(year, int(found[3]) * 3, 1), zone)
    return month(date(year, int(found[2]), 1), zone) if 1 <= int(found[2]) <= 12 else None


def months_to(period: Period, zone: ZoneInfo, count: int = 12) -> list[Period]:
    """The `count` months ending with the period's last month, oldest first."""
    last = month(add_months(period.first_day, period.months - 1), zone)
    return [month(add_months(last.first_day, offset - count + 1), zone) for offset in range(count)]


@dataclass
class Table:
    """One table of figures: the page shows it and its CSV is it. `links` names, row by row, the
    figure whose records are behind the row's first value (None: no list, e.g. a median)."""
    key: str
    title: str
    columns: list[str]
    rows: list[list]
    summary: str
    links: list[str | None] | None = None


def _cell(value):
    """A spreadsheet must not run a name as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([[_cell(value) for value in row] for row in table.rows])
    return out.getvalue()
