"""The enforcement rule: a pure function of an order's compliance events, the team's policy and
today. Called by the routes (the panel, the board) and by the worker alike, so an outcome recorded
offline is judged on its own date when it arrives, exactly as if it had been recorded then.

The default is the rule for England and Wales (Criminal Justice Act 2003, Schedule 8): a first
unacceptable failure is met with a warning; a further unacceptable failure within 12 months of a
warning goes to a breach decision, taken within 10 working days. Licences go to a recall decision
at the first failure (a further warning is one of its answers). Teams may change the numbers;
nothing switches the record off.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable, Protocol

import holidays
from dateutil.relativedelta import relativedelta

# Outcomes that are unacceptable failures to comply (each one asks for enforcement).
FAILURES = frozenset({"attended_failed_to_comply", "sent_home_behaviour", "unacceptable_absence"})
KEPT = frozenset({"attended_complied", "sent_home_our_issue"})
# A decision that is itself a warning, given on the day it was decided.
WARNING_DECISIONS = frozenset({"further_warning"})


@dataclass(frozen=True)
class Policy:
    family: str  # court / licence
    warnings_before_breach: int
    window_months: int
    decision_working_days: int


DEFAULT_POLICIES = {
    "court": Policy("court", warnings_before_breach=1, window_months=12, decision_working_days=10),
    "licence": Policy("licence", warnings_before_breach=0, window_months=12, decision_working_days=1),
}
LIMITS = {"warnings_before_breach": (0, 3), "window_months": (1, 24), "decision_working_days": (1, 20)}


def family_of(order_kind: str) -> str:
    return "licence" if order_kind == "licence" else "court"


class Event(Protocol):
    """What the rule reads of a compliance event (a `ComplianceEvent` row, or any look-alike)."""
    id: int | None
    kind: str
    occurred_on: date
    outcome: str | None
    evidence_due_on: date | None
    decision: str | None
    responds_to_id: int | None


@dataclass(frozen=True)
class Prompt:
    """What the record asks for next: `warning`, `breach_decision` (with `due_on`, the clock) or
    `evidence_overdue` (an acceptable absence whose evidence has not come)."""
    kind: str
    event_id: int | None
    occurred_on: date
    due_on: date | None = None


# ---- working days ----

@lru_cache(maxsize=8)
def _bank_holidays(year: int) -> frozenset[date]:
    # England and Wales share their bank holidays (Scotland and Northern Ireland differ).
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(day: date, count: int) -> date:
    """The day `count` working days after `day` (weekends and bank holidays not counted)."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_left(today: date, due: date) -> int:
    """Working days from today until the due day (0 on the day; negative once past it)."""
    if due < today:
        return -sum(is_working_day(today - timedelta(days=n)) for n in range(0, (today - due).days))
    return sum(is_working_day(today + timedelta(days=n)) for n in range(1, (due - today).days + 1))


def clock_words(today: date, due: date) -> str:
    left = working_days_left(today, due)
    if left < 0:
        return f"overdue by {-left} working day{'s' if left != -1 else ''}"
    if left == 0:
        return "due today"
    return f"{left} working day{'s' if left != 1 else ''} left"


# ---- the rule ----

def effective_outcomes(events: Iterable[Event]) -> list[Event]:
    """Outcomes as they stand: a correction replaces the outcome it responds to (and may itself be
    corrected), in date order."""
    events = list(events)
    replaced = {e.responds_to_id for e in events if e.kind == "correction"}
    return sorted((e for e in events if e.kind in ("outcome", "correction") and e.id not in replaced),
                  key=lambda e: (e.occurred_on, e.id or 0))


def warnings_given(events: Iterable[Event]) -> list[Event]:
    return sorted((e for e in events if e.kind == "warning"
                   or (e.kind == "decision" and e.decision in WARNING_DECISIONS)),
                  key=lambda e: (e.occurred_on, e.id or 0))


def expires_on(warning: Event, policy: Policy) -> date:
    """A warning is live until this day (on it, it has expired: "within 12 months" of it is over)."""
    return warning.occurred_on + relativedelta(months=policy.window_months)


def live_warnings(events: Iterable[Event], policy: Policy, on: date) -> list[Event]:
    return [w for w in warnings_given(events) if w.occurred_on <= on < expires_on(w, policy)]


def prompts(events: Iterable[Event], policy: Policy, today: date) -> list[Prompt]:
    """Everything the record asks for, oldest first. A failure answered by a warning or a decision
    asks for nothing more; each one is judged against the warnings live on its own date."""
    events = list(events)
    answered = {e.responds_to_id for e in events if e.kind in ("warning", "decision")}
    evidence_in = {e.responds_to_id for e in events if e.kind == "evidence_received"}
    warnings = warnings_given(events)
    found = []
    for outcome in effective_outcomes(events):
        if outcome.outcome in FAILURES and outcome.id not in answered:
            live = [w for w in warnings if w.occurred_on <= outcome.occurred_on < expires_on(w, policy)]
            if len(live) < policy.warnings_before_breach:
                found.append(Prompt("warning", outcome.id, outcome.occurred_on))
            else:
                found.append(Prompt("breach_decision", outcome.id, outcome.occurred_on,
                                    add_working_days(outcome.occurred_on, policy.decision_working_days)))
        elif (outcome.outcome == "acceptable_absence" and outcome.evidence_due_on is not None
              and outcome.id not in evidence_in and today > outcome.evidence_due_on):
            found.append(Prompt("evidence_overdue", outcome.id, outcome.occurred_on, outcome.evidence_due_on))
    return found


def outcome_overdue(occurred_on: date, today: date) -> bool:
    """An enforceable appointment with no outcome after 2 working days is surfaced on Today."""
    return today > add_working_days(occurred_on, 2)
