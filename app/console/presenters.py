"""The rota in the words and local times a person reads."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.services import rota

SOURCE_WORDS = {"shift": "weekly shift", "change": "one-off change", "fallback": "no shift: the fallback"}


def when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %-d %b, %H:%M")


@dataclass
class ShiftRow:
    id: int
    day: str
    hours: str
    who: str


@dataclass
class ChangeRow:
    id: int
    starts: str
    ends: str
    who: str


def shift_rows(shifts, names: dict[int, str]) -> list[ShiftRow]:
    return [ShiftRow(s.id, rota.WEEKDAYS[s.weekday],
                     f"{rota.minute_label(s.starts_minute)} to {rota.minute_label(s.ends_minute)}"
                     + (" (next day)" if s.ends_minute <= s.starts_minute else ""), names.get(s.supervisor_id, "?"))
            for s in shifts]


def change_rows(changes, names: dict[int, str], zone: ZoneInfo) -> list[ChangeRow]:
    return [ChangeRow(c.id, when(c.starts_at, zone), when(c.ends_at, zone), names.get(c.supervisor_id, "?"))
            for c in changes]


def gap_lines(gaps, names: dict[int, str], zone: ZoneInfo) -> list[str]:
    lines = []
    for gap in gaps:
        fallback = names.get(gap.cover.supervisor_id) if gap.cover.supervisor_id else None
        lines.append(f"{when(gap.starts_at, zone)} to {when(gap.ends_at, zone)}: "
                     + (f"the fallback, {fallback}" if fallback else "nobody on the rota: every supervisor"))
    return lines
