"""The enforcement rule, table-driven: each sequence of outcomes yields exactly the expected prompts."""
from dataclasses import dataclass
from datetime import date

import pytest

from app.services.compliance_rules import (DEFAULT_POLICIES, Policy, add_working_days, live_warnings,
                                           outcome_overdue, prompts)

COURT, LICENCE = DEFAULT_POLICIES["court"], DEFAULT_POLICIES["licence"]
STRICT = Policy("court", warnings_before_breach=2, window_months=6, decision_working_days=5)


@dataclass
class E:
    id: int
    kind: str
    occurred_on: date
    outcome: str | None = None
    evidence_due_on: date | None = None
    decision: str | None = None
    responds_to_id: int | None = None


def out(id, day, outcome, **kw):
    return E(id, "outcome", day, outcome=outcome, **kw)


def warn(id, day, failure):
    return E(id, "warning", day, responds_to_id=failure)


D = date
CASES = [
    ("nothing recorded", [], COURT, D(2026, 3, 1), []),
    ("attended and complied", [out(1, D(2026, 1, 5), "attended_complied")], COURT, D(2026, 3, 1), []),
    ("first unacceptable absence: warning",
     [out(1, D(2026, 1, 5), "unacceptable_absence")], COURT, D(2026, 1, 6), [("warning", 1, None)]),
    ("failed to comply counts as a failure",
     [out(1, D(2026, 1, 5), "attended_failed_to_comply")], COURT, D(2026, 1, 6), [("warning", 1, None)]),
    ("sent home for behaviour is a failure, for our issue is not",
     [out(1, D(2026, 1, 5), "sent_home_our_issue"), out(2, D(2026, 1, 12), "sent_home_behaviour")], COURT,
     D(2026, 1, 13), [("warning", 2, None)]),
    ("warning given: nothing more asked", [out(1, D(2026, 1, 5), "unacceptable_absence"), warn(2, D(2026, 1, 7), 1)],
     COURT, D(2026, 1, 8), []),
    ("second failure within 12 months: breach decision in 10 working days",
     [out(1, D(2026, 1, 5), "unacceptable_absence"), warn(2, D(2026, 1, 7), 1),
      out(3, D(2026, 3, 2), "unacceptable_absence")], COURT, D(2026, 3, 3),
     [("breach_decision", 3, D(2026, 3, 16))]),
    ("clock skips the Easter bank holidays",
     [out(1, D(2026, 1, 5), "unacceptable_absence"), warn(2, D(2026, 1, 7), 1),
      out(3, D(2026, 3, 30), "unacceptable_absence")], COURT, D(2026, 3, 31),
     [("breach_decision", 3, D(2026, 4, 15))]),
    ("a failure the day before the warning expires: breach decision",
     [out(1, D(2025, 1, 6), "unacceptable_absence"), warn(2, D(2025, 1, 10), 1),
      out(3, D(2026, 1, 9), "unacceptable_absence")], COURT, D(2026, 1, 9),
     [("breach_decision", 3, D(2026, 1, 23))]),
    ("a failure exactly 12 months after the warning: it has expired, a new warning",
     [out(1, D(2025, 1, 6), "unacceptable_absence"), warn(2, D(2025, 1, 10), 1),
      out(3, D(2026, 1, 10), "unacceptable_absence")], COURT, D(2026, 1, 12), [("warning", 3, None)]),
    ("acceptable absence with evidence still due: nothing yet",
     [out(1, D(2026, 2, 2), "acceptable_absence", evidence_due_on=D(2026, 2, 9))], COURT, D(2026, 2, 9), []),
    ("acceptable absence whose evidence never arrives: overdue reminder",
     [out(1, D(2026, 2, 2), "acceptable_absence", evidence_due_on=D(2026, 2, 9))], COURT, D(2026, 2, 10),
     [("evidence_overdue", 1, D(2026, 2, 9))]),
    ("acceptable absence with evidence received: nothing",
     [out(1, D(2026, 2, 2), "acceptable_absence", evidence_due_on=D(2026, 2, 9)),
      E(2, "evidence_received", D(2026, 2, 8), responds_to_id=1)], COURT, D(2026, 3, 1), []),
    ("licence: the first failure goes to a recall decision the next working day",
     [out(1, D(2026, 1, 9), "unacceptable_absence")], LICENCE, D(2026, 1, 9), [("breach_decision", 1, D(2026, 1, 12))]),
    ("licence: a further warning answers the decision",
     [out(1, D(2026, 1, 9), "unacceptable_absence"),
      E(2, "decision", D(2026, 1, 12), decision="further_warning", responds_to_id=1)], LICENCE, D(2026, 1, 13), []),
    ("changed policy: two warnings before breach, so a second failure is a second warning",
     [out(1, D(2026, 1, 5), "unacceptable_absence"), warn(2, D(2026, 1, 6), 1),
      out(3, D(2026, 2, 2), "unacceptable_absence")], STRICT, D(2026, 2, 3), [("warning", 3, None)]),
    ("changed policy: third failure within 6 months of two warnings, breach in 5 working days",
     [out(1, D(2026, 1, 5), "unacceptable_absence"), warn(2, D(2026, 1, 6), 1),
      out(3, D(2026, 2, 2), "unacceptable_absence"), warn(4, D(2026, 2, 3), 3),
      out(5, D(2026, 3, 2), "unacceptable_absence")], STRICT, D(2026, 3, 3), [("breach_decision", 5, D(2026, 3, 9))]),
    ("changed policy: 6-month window, an old warning no longer counts",
     [out(1, D(2026, 1, 5), "unacceptable_absence"), warn(2, D(2026, 1, 6), 1),
      out(3, D(2026, 2, 2), "unacceptable_absence"), warn(4, D(2026, 2, 3), 3),
      out(5, D(2026, 7, 6), "unacceptable_absence")], STRICT, D(2026, 7, 7), [("warning", 5, None)]),
    ("a corrected outcome: the absence was acceptable after all",
     [out(1, D(2026, 1, 5), "unacceptable_absence"),
      E(2, "correction", D(2026, 1, 5), outcome="acceptable_absence", responds_to_id=1)], COURT, D(2026, 1, 6), []),
    ("breach decided: that failure asks for nothing more",
     [out(1, D(2026, 1, 5), "unacceptable_absence"), warn(2, D(2026, 1, 7), 1),
      out(3, D(2026, 3, 2), "unacceptable_absence"),
      E(4, "decision", D(2026, 3, 4), decision="breach", responds_to_id=3)], COURT, D(2026, 3, 5), []),
]


@pytest.mark.parametrize("events, policy, today, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_sequence_yields_exactly_the_expected_prompts(events, policy, today, expected):
    assert [(p.kind, p.event_id, p.due_on) for p in prompts(events, policy, today)] == expected


def test_working_days_skip_weekends_and_bank_holidays():
    assert add_working_days(D(2026, 12, 24), 1) == D(2026, 12, 29)  # Christmas, Boxing Day (moved), weekend
    assert add_working_days(D(2026, 8, 28), 1) == D(2026, 9, 1)  # the August bank holiday
    assert outcome_overdue(D(2026, 1, 9), D(2026, 1, 13)) is False  # Fri: Mon, Tue are the two days
    assert outcome_overdue(D(2026, 1, 9), D(2026, 1, 14)) is True


def test_the_clock_counts_working_days_left():
    from app.services.compliance_rules import clock_words

    assert clock_words(D(2026, 3, 31), D(2026, 4, 15)) == "9 working days left"  # Easter skipped
    assert clock_words(D(2026, 4, 15), D(2026, 4, 15)) == "due today"
    assert clock_words(D(2026, 4, 20), D(2026, 4, 15)) == "overdue by 3 working days"  # Wed 15 → Mon 20


def test_a_warning_is_live_until_the_day_it_expires():
    events = [out(1, D(2025, 1, 6), "unacceptable_absence"), warn(2, D(2025, 1, 10), 1)]
    assert [w.id for w in live_warnings(events, COURT, D(2026, 1, 9))] == [2]
    assert live_warnings(events, COURT, D(2026, 1, 10)) == []
