"""The state machine, walked through every transition, with no database."""
from datetime import UTC, datetime, timedelta

import pytest

from app.services import safety_rules as rules

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
VISIT_EVENTS = ("check_in", "extend", "end", "miss", "duress")
ALERT_EVENTS = ("escalate", "acknowledge", "resolve")


@pytest.mark.parametrize("state", ["active", "overdue", "ended"])
@pytest.mark.parametrize("event", VISIT_EVENTS)
def test_every_visit_transition_is_in_the_table_or_refused(state, event):
    expected = rules.VISIT_TRANSITIONS.get((state, event))
    if expected is None:
        with pytest.raises(rules.NotAllowed):
            rules.next_visit_state(state, event)
    else:
        assert rules.next_visit_state(state, event) == expected


def test_the_visit_table_says_what_the_design_says():
    assert rules.next_visit_state("active", "miss") == "overdue"
    assert rules.next_visit_state("overdue", "check_in") == "overdue"  # a late check-in never clears an alert
    assert rules.next_visit_state("active", "duress") == "active"  # looks like a normal check-in
    for event in VISIT_EVENTS:  # nothing happens to an ended visit
        assert ("ended", event) not in rules.VISIT_TRANSITIONS
    with pytest.raises(rules.NotAllowed):
        rules.next_visit_state("overdue", "extend")


@pytest.mark.parametrize("state", ["open", "acknowledged", "resolved"])
@pytest.mark.parametrize("event", ALERT_EVENTS)
def test_every_alert_transition_is_in_the_table_or_refused(state, event):
    expected = rules.ALERT_TRANSITIONS.get((state, event))
    if expected is None:
        with pytest.raises(rules.NotAllowed):
            rules.next_alert_state(state, event)
    else:
        assert rules.next_alert_state(state, event) == expected


def test_start_clock_without_and_with_periodic_check_ins():
    plain = rules.start_clock(NOW, 60, None, 300)
    assert plain.planned_end_at == plain.due_at == NOW + timedelta(minutes=60)
    assert plain.overdue_at == plain.due_at + timedelta(seconds=300)
    assert plain.remind_at == plain.due_at - timedelta(minutes=5)
    periodic = rules.start_clock(NOW, 120, 30, 300)
    assert periodic.due_at == NOW + timedelta(minutes=30)
    assert periodic.planned_end_at == NOW + timedelta(minutes=120)


def test_short_visits_are_reminded_halfway_and_tiny_ones_not_at_all():
    assert rules.start_clock(NOW, 4, None, 60).remind_at == NOW + timedelta(minutes=2)
    assert rules.remind_moment(NOW + timedelta(seconds=30), NOW) is None


@pytest.mark.parametrize("offset, missed", [(-0.001, False), (0, True), (0.001, True)])
def test_a_check_in_just_before_exactly_at_and_just_after_the_grace_deadline(offset, missed):
    clock = rules.start_clock(NOW, 30, None, 300)
    assert rules.is_missed(clock.overdue_at, clock.overdue_at + timedelta(seconds=offset)) is missed


def test_check_in_moves_the_periodic_deadline_but_not_past_the_planned_end():
    planned_end = NOW + timedelta(minutes=50)
    clock = rules.check_in_clock(planned_end, 30, 300, NOW + timedelta(minutes=25))
    assert clock.due_at == planned_end  # 25 + 30 would pass the end
    early = rules.check_in_clock(planned_end, 30, 300, NOW)
    assert early.due_at == NOW + timedelta(minutes=30)
    assert rules.check_in_clock(planned_end, None, 300, NOW).due_at == planned_end


def test_check_in_after_the_planned_end_keeps_watching():
    planned_end = NOW
    clock = rules.check_in_clock(planned_end, None, 300, NOW + timedelta(minutes=2))
    assert clock.planned_end_at == clock.due_at == NOW + timedelta(minutes=2) + rules.AFTER_END_CHECK_IN


def test_extend_adds_to_the_planned_end_or_to_now_if_that_has_passed():
    assert rules.extend_clock(NOW + timedelta(minutes=10), None, 300, 15, NOW).due_at == NOW + timedelta(minutes=25)
    assert rules.extend_clock(NOW - timedelta(minutes=3), None, 300, 15, NOW).due_at == NOW + timedelta(minutes=15)


def test_ladder_starts_at_one_for_missed_and_at_the_top_for_crisis_and_duress():
    assert rules.first_level("missed_check_in") == 1
    assert rules.first_level("panic") == rules.first_level("duress") == rules.TOP_LEVEL
    assert rules.escalate(1, 0) == (2, 0)
    assert rules.escalate(2, 0) == (3, 0)
    assert rules.escalate(3, 0) == (3, 1)  # the top repeats until acknowledged
    assert rules.escalate(3, 4) == (3, 5)


def test_the_most_urgent_alert_comes_first():
    from types import SimpleNamespace as A
    minute = timedelta(minutes=1)
    crisis = A(state="open", level=3, kind="panic", raised_at=NOW - 5 * minute)
    escalated = A(state="open", level=3, kind="missed_check_in", raised_at=NOW - 9 * minute)
    later_missed = A(state="open", level=2, kind="missed_check_in", raised_at=NOW)
    older_missed = A(state="open", level=2, kind="missed_check_in", raised_at=NOW - 2 * minute)
    first_rung = A(state="open", level=1, kind="missed_check_in", raised_at=NOW - 20 * minute)
    answered_crisis = A(state="acknowledged", level=3, kind="panic", raised_at=NOW - 30 * minute)
    shuffled = [answered_crisis, later_missed, first_rung, crisis, older_missed, escalated]
    assert sorted(shuffled, key=rules.most_urgent_first) == [crisis, escalated, older_missed, later_missed,
                                                             first_rung, answered_crisis]


def test_visit_status_in_words_and_tone():
    due = NOW + timedelta(minutes=20)
    overdue = due + timedelta(minutes=5)
    assert rules.visit_status("active", due, overdue, NOW, False) == rules.Status("OK", "ok")
    assert rules.visit_status("active", due, overdue, due - timedelta(minutes=4), False).label == "Due soon"
    assert rules.visit_status("active", due, overdue, due + timedelta(seconds=1), False).label == "Overdue"
    assert rules.visit_status("overdue", due, overdue, NOW, True).label == "Alert"
    assert rules.visit_status("ended", due, overdue, NOW, False).label == "Ended"
