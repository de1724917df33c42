"""The completion rule of a group programme: a share of the sessions (rounded up) and, if the
programme says so, the first and the final session, counted across every group of the programme
the person was in (a move keeps what they attended)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.models import Attendance, Enrolment, Group, GroupSession, Programme

# Marks that count as attending a session for the completion rule (late still took part; leaving
# early or being sent home did not complete the session).
CREDITED = ("attended", "late")


@dataclass(frozen=True)
class Completion:
    met: bool
    attended: int
    needed: int
    missing: tuple[str, ...]  # what the rule still needs, in words


def needed_sessions(programme: Programme) -> int:
    """The fewest sessions that make `complete_percent` (rounded up: 80 % of 12 is 10)."""
    return -(-programme.complete_percent * programme.session_count // 100)


def completion_of(programme: Programme, credited_numbers: set[int]) -> Completion:
    """The programme's rule applied to the session numbers someone attended (a pure function)."""
    attended = len({n for n in credited_numbers if 1 <= n <= programme.session_count})
    needed = needed_sessions(programme)
    missing = []
    if attended < needed:
        missing.append(f"{needed - attended} more session{'s' if needed - attended != 1 else ''} "
                       f"({programme.complete_percent} % of {programme.session_count})")
    if programme.must_attend_first and 1 not in credited_numbers:
        missing.append("the first session")
    if programme.must_attend_last and programme.session_count not in credited_numbers:
        missing.append(f"the final session (number {programme.session_count})")
    return Completion(not missing, attended, needed, tuple(missing))


def credited_sessions(session: Session, programme_id: int, person_id: int) -> set[int]:
    """Session numbers of this programme the person attended, in any of its groups (a move keeps them)."""
    rows = session.exec(select(GroupSession.number).join(Attendance, Attendance.group_session_id == GroupSession.id)
                        .join(Group, Group.id == GroupSession.group_id)
                        .where(Group.programme_id == programme_id, Attendance.person_id == person_id,
                               Attendance.mark.in_(CREDITED))).all()
    return set(rows)


def completions(session: Session, group: Group, enrolments: list[Enrolment]) -> dict[int, Completion]:
    """Each enrolment's completion, for a group's page: one query however many people."""
    programme = session.get(Programme, group.programme_id)
    person_ids = {e.person_id for e in enrolments}
    credited: dict[int, set[int]] = {pid: set() for pid in person_ids}
    if person_ids:
        for person_id, number in session.exec(
                select(Attendance.person_id, GroupSession.number)
                .join(GroupSession, GroupSession.id == Attendance.group_session_id)
                .join(Group, Group.id == GroupSession.group_id)
                .where(Group.programme_id == programme.id, Attendance.person_id.in_(person_ids),
                       Attendance.mark.in_(CREDITED))).all():
            credited[person_id].add(number)
    return {e.id: completion_of(programme, credited[e.person_id]) for e in enrolments}


def completion(session: Session, enrolment: Enrolment) -> Completion:
    group = session.get(Group, enrolment.group_id)
    programme = session.get(Programme, group.programme_id)
    return completion_of(programme, credited_sessions(session, programme.id, enrolment.person_id))
