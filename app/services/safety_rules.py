"""The safety state machine: plain functions of the stored state and `now`. No database here.

Visit states and what moves them (anything not in the table is refused):

    state     event        ->  state     notes
    active    check_in         active    on time: before overdue_at (= due_at + grace)
    active    check_in         overdue   at or after overdue_at: missed, an alert is raised, and
                                         the check-in is recorded as late (the alert stays open)
    active    extend           active
    active    end              ended
    active    miss             overdue   the engine: now >= overdue_at; raises the alert
    active    duress           active    looks exactly like check_in; raises a silent alert
    (a run of PIN_TRIES wrong PINs pauses PIN entry on the visit and raises a silent alert; a PIN
    typed while paused is refused, the duress PIN still raising its alarm)
    overdue   check_in         overdue   late check-in: shown on the alert, never resolves it
    overdue   duress           overdue   ditto, and raises a silent alert
    overdue   end              ended     the alert stays open until a responder resolves it

Alert states:

    state         event        ->  state         notes
    open          escalate         open          level 1 -> 2 -> 3; level 3 repeats until acked
    open          acknowledge      acknowledged  the ladder stops
    open          resolve          resolved
    acknowledged  resolve          resolved
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

VISIT_TRANSITIONS = {
    ("active", "check_in"): "active",
    ("active", "extend"): "active",
    ("active", "end"): "ended",
    ("active", "miss"): "overdue",
    ("active", "duress"): "active",
    ("overdue", "check_in"): "overdue",
    ("overdue", "duress"): "overdue",
    ("overdue", "end"): "ended",
}
ALERT_TRANSITIONS = {
    ("open", "escalate"): "open",
    ("open", "acknowledge"): "acknowledged",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
}
TOP_LEVEL = 3
# Alarms the worker's phone never shows: they go to the team's supervisors only.
SILENT_KINDS = ("duress", "wrong_pins")
# A run of wrong PINs on one visit is itself a signal (someone else may hold the phone): every
# PIN_TRIES-th wrong PIN in a row pauses PIN entry, 5 minutes the first time, doubling, at most an
# hour, so the 10,000 four-digit PINs would take weeks; the first pause raises a silent alarm.
PIN_TRIES = 5
PIN_PAUSE_FIRST = timedelta(minutes=5)
PIN_PAUSE_MAX = timedelta(hours=1)
# A check-in after the planned end (in the grace period) keeps the timer going this long.
AFTER_END_CHECK_IN = timedelta(minutes=15)
# "Check in due in 5 min"; for short visits, halfway to the deadline instead.
REMIND_BEFORE = timedelta(minutes=5)
# Within this of the deadline a running visit shows as "Due soon".
DUE_SOON = timedelta(minutes=5)


class NotAllowed(Exception):
    """That event can't happen in this state."""


def next_visit_state(state: str, event: str) -> str:
    try:
        return VISIT_TRANSITIONS[(state, event)]
    except KeyError:
        raise NotAllowed(f"a visit that is {state} can't {event.replace('_', ' ')}") from None


def next_alert_state(state: str, event: str) -> str:
    try:
        return ALERT_TRANSITIONS[(state, event)]
    except KeyError:
        raise NotAllowed(f"an alert that is {state} can't {event}") from None


@dataclass(frozen=True)
class Clock:
    """The deadlines of a running visit."""

    planned_end_at: datetime
    due_at: datetime
    overdue_at: datetime
    remind_at: datetime | None


def remind_moment(due_at: datetime, now: datetime) -> datetime | None:
    lead = min(REMIND_BEFORE, (due_at - now) / 2)
    return due_at - lead if lead > timedelta(seconds=20) else None


def _clock(planned_end: datetime, due: datetime, grace_seconds: int, now: datetime) -> Clock:
    return Clock(planned_end, due, due + timedelta(seconds=grace_seconds), remind_moment(due, now))


def start_clock(now: datetime, minutes: int, every_minutes: int | None, grace_seconds: int) -> Clock:
    planned_end = now + timedelta(minutes=minutes)
    due = min(planned_end, now + timedelta(minutes=every_minutes)) if every_minutes else planned_end
    return _clock(planned_end, due, grace_seconds, now)


def is_missed(overdue_at: datetime, now: datetime) -> bool:
    """A visit is missed at its grace deadline: a check-in exactly then is already late."""
    return now >= overdue_at


def check_in_clock(planned_end: datetime, every_minutes: int | None, grace_seconds: int, now: datetime) -> Clock:
    if now >= planned_end:
        # Still there after the planned end: keep watching rather than stop or alarm.
        planned_end = now + (timedelta(minutes=every_minutes) if every_minutes else AFTER_END_CHECK_IN)
    due = min(planned_end, now + timedelta(minutes=every_minutes)) if every_minutes else planned_end
    return _clock(planned_end, due, grace_seconds, now)


def extend_clock(planned_end: datetime, every_minutes: int | None, grace_seconds: int, minutes: int,
                 now: datetime) -> Clock:
    new_end = max(planned_end, now) + timedelta(minutes=minutes)
    due = min(new_end, now + timedelta(minutes=every_minutes)) if every_minutes else new_end
    return _clock(new_end, due, grace_seconds, now)


def first_level(kind: str) -> int:
    """Crisis and silent alarms skip the ladder's lower rungs."""
    return TOP_LEVEL if kind == "panic" or kind in SILENT_KINDS else 1


def pin_pause_after(failures: int) -> timedelta | None:
    """After this many wrong PINs in a row on a visit: how long to refuse PINs, or None to go on."""
    if failures <= 0 or failures % PIN_TRIES:
        return None
    return min(PIN_PAUSE_FIRST * 2 ** min(failures // PIN_TRIES - 1, 10), PIN_PAUSE_MAX)


def pin_paused(paused_until: datetime | None, now: datetime) -> bool:
    return paused_until is not None and now < paused_until


def escalate(level: int, repeats: int) -> tuple[int, int]:
    """(new level, repeats at the top): the top level repeats until someone acknowledges."""
    return (level + 1, 0) if level < TOP_LEVEL else (TOP_LEVEL, repeats + 1)


# Among alerts at the same level, a person in danger now (Crisis, duress) before a missed check-in.
KIND_URGENCY = {"panic": 0, "duress": 0, "wrong_pins": 0, "missed_check_in": 1}


def most_urgent_first(alert) -> tuple:
    """Sort key for every list of alerts: unanswered before answered, then the highest level, then
    a Crisis or duress alarm, then whoever has waited longest."""
    return (alert.state != "open", -alert.level, KIND_URGENCY.get(alert.kind, 2), alert.raised_at)


@dataclass(frozen=True)
class Status:
    label: str
    tone: str  # ok | warn | danger, always shown with the label (never colour alone)


def visit_status(state: str, due_at: datetime, overdue_at: datetime, now: datetime, has_open_alert: bool) -> Status:
    if state == "ended":
        return Status("Ended", "off")
    if has_open_alert or state == "overdue":
        return Status("Alert", "danger")
    if now >= due_at:
        return Status("Overdue", "danger")
    if due_at - now <= DUE_SOON:
        return Status("Due soon", "warn")
    return Status("OK", "ok")
