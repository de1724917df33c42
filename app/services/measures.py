"""Taking outcome measures with a person: answers scored by the instrument's own module, declines
with a reason, corrections that supersede (never overwrite), and the organisation's licences.

Responses are append-only. "Current" responses are those no later response supersedes; the old
ones stay for supervisors and the audit trail.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from app.db import built_once
from app.instruments import INSTRUMENTS, Instrument, Result, choosable, score, team_scale
from app.models import MeasureResponse, OrganisationLicence, Person, TeamScale, User
from app.models.measures import ANSWERED
from app.services import ValidationError
from app.services.access import NotFound

ANSWERED_LABELS = {"alone": "Answered themselves", "with_help": "Answered with help"}
LICENCES = {"wemwbs": "WEMWBS / SWEMWBS (University of Warwick)"}
# An offline send says when it was asked; a phone's clock this far ahead is not believed, and a
# measure queued longer than the outbox keeps anything is not back-dated either.
CLOCK_SKEW = timedelta(minutes=5)
OUTBOX_DAYS = timedelta(days=8)


@dataclass(frozen=True)
class Taken:
    answers: dict[str, int | None]
    answered: str
    asked_at: datetime | None = None  # when the phone says it was asked (offline sends)


# ---- licences ----

def licences_held(session: Session) -> set[str]:
    """Licences whose latest record says the organisation holds them."""
    latest: dict[str, bool] = {}
    for row in session.exec(select(OrganisationLicence).order_by(OrganisationLicence.recorded_at,
                                                                   OrganisationLicence.id)).all():
        latest[row.licence] = row.held
    return {licence for licence, held in latest.items() if held}


def record_licence(session: Session, admin: User, licence: str, held: bool, note: str | None, *,
                   now: datetime) -> OrganisationLicence:
    if admin.role != "admin":
        raise NotFound
    if licence not in LICENCES:
        raise ValidationError({"licence": "Choose a licence from the list."})
    if held and not (note or "").strip():
        raise ValidationError({"note": "Say which licence it is (its reference or who granted it)."})
    row = OrganisationLicence(licence=licence, held=held, note=(note or "").strip() or None,
                              recorded_by_id=admin.id, recorded_at=now)
    session.add(row)
    session.flush()
    return row


# ---- teams' own scales ----

@dataclass(frozen=True)
class ScaleDetails:
    name: str
    question: str
    low_label: str
    high_label: str
    higher_is_worse: bool = False


TEAM_PREFIX = "team-"


def as_instrument(scale: TeamScale) -> Instrument:
    return team_scale(f"{TEAM_PREFIX}{scale.id}", scale.name, scale.question, scale.low_label, scale.high_label,
                      higher_is_worse=scale.higher_is_worse)


def add_scale(session: Session, supervisor: User, details: ScaleDetails, *, now: datetime) -> TeamScale:
    if supervisor.role != "supervisor" or supervisor.team_id is None:
        raise NotFound
    errors = {}
    for name, limit, message in (("name", 80, "Give the scale a short name."),
                                 ("question", 200, "Write the question as it will be asked."),
                                 ("low_label", 60, "Say what 0 means."), ("high_label", 60, "Say what 10 means.")):
        value = (getattr(details, name) or "").strip()
        if not value:
            errors[name] = message
        elif len(value) > limit:
            errors[name] = f"At most {limit} characters."
    if errors:
        raise ValidationError(errors)
    scale = TeamScale(team_id=supervisor.team_id, name=details.name.strip(), question=details.question.strip(),
                      low_label=details.low_label.strip(), high_label=details.high_label.strip(),
                      higher_is_worse=details.higher_is_worse, created_by_id=supervisor.id, created_at=now)
    session.add(scale)
    session.flush()
    return scale


def retire_scale(session: Session, supervisor: User, scale_id: int, *, now: datetime) -> TeamScale:
    scale = session.get(TeamScale, scale_id)
    if supervisor.role != "supervisor" or scale is None or scale.team_id != supervisor.team_id:
        raise NotFound
    scale.retired_at = scale.retired_at or now
    return scale


def team_scales(session: Session, team_id: int, *, include_retired: bool = False) -> list[TeamScale]:
    return list(session.exec(_scales_of(include_retired), params={"team_id": team_id}).all())


@built_once
def _scales_of(include_retired: bool):
    query = select(TeamScale).where(TeamScale.team_id == bindparam("team_id")).order_by(TeamScale.name)
    return query if include_retired else query.where(TeamScale.retired_at.is_(None))


def offered(session: Session, viewer: User) -> list[Instrument]:
    """What a worker may take now: the validated instruments the organisation's licences allow, then
    the team's own (not validated) scales."""
    return _offered_from(licences_held(session), team_scales(session, viewer.team_id))


def _offered_from(licences: set[str], scales: list[TeamScale]) -> list[Instrument]:
    return choosable(licences) + [as_instrument(s) for s in scales if s.retired_at is None]


@dataclass(frozen=True)
class Catalogue:
    names: dict[str, str]  # every instrument a record may name, the team's retired scales too
    # The keys the team may take now: a goal may still name a scale retired since, or an instrument
    # whose licence has lapsed.
    offered: set[str]


def catalogue(session: Session, team_id: int) -> Catalogue:
    """What a list of measures due needs to name them and say which can still be taken: one read of
    the team's scales, retired ones included."""
    scales = team_scales(session, team_id, include_retired=True)
    names = {key: i.name for key, i in INSTRUMENTS.items()} | {as_instrument(s).key: s.name for s in scales}
    return Catalogue(names, {i.key for i in _offered_from(licences_held(session), scales)})


def instrument_for(session: Session, viewer: User, key: str) -> Instrument:
    """An instrument the viewer may use now (SWEMWBS only with its licence), else NotFound."""
    found = next((i for i in offered(session, viewer) if i.key == key), None)
    if found is None:
        raise NotFound
    return found


def instruments_for(session: Session, team_id: int, responses: list[MeasureResponse]) -> dict[str, Instrument]:
    """The instruments these responses were taken with, in display order (the team's scales, retired
    ones included, are looked up only when a response needs one)."""
    found = dict(INSTRUMENTS)
    if any(r.instrument.startswith(TEAM_PREFIX) for r in responses):
        found.update({f"{TEAM_PREFIX}{s.id}": as_instrument(s)
                      for s in team_scales(session, team_id, include_retired=True)})
    return found


def instrument_of(session: Session, response: MeasureResponse) -> Instrument:
    """The instrument a stored response was taken with (shown even if its licence lapsed since)."""
    return instruments_for(session, response.team_id, [response])[response.instrument]


# ---- taking, declining, correcting ----

def _when(asked_at: datetime | None, now: datetime) -> datetime:
    if asked_at is None or asked_at > now + CLOCK_SKEW or asked_at < now - OUTBOX_DAYS:
        return now
    return min(asked_at, now)


def _checked(instrument: Instrument, taken: Taken) -> Result:
    errors = {}
    if taken.answered not in ANSWERED:
        errors["answered"] = "Say whether they answered themselves or with help."
    try:
        result = score(instrument, taken.answers)
    except ValidationError as error:
        errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    return result


def _answers(instrument: Instrument, answers: dict[str, int | None]) -> dict[str, int]:
    return {item.key: answers[item.key] for item in instrument.items if answers.get(item.key) is not None}


def take(session: Session, viewer: User, person: Person, instrument: Instrument, taken: Taken, *,
         now: datetime) -> tuple[MeasureResponse, Result]:
    result = _checked(instrument, taken)
    response = MeasureResponse(team_id=person.team_id, person_id=person.id, instrument=instrument.key,
                               instrument_version=instrument.version, asked_by_id=viewer.id,
                               taken_at=_when(taken.asked_at, now), answered=taken.answered,
                               answers=_answers(instrument, taken.answers), total=result.total,
                               band=result.band.label if result.band else None, created_at=now)
    session.add(response)
    session.flush()
    return response, result


def decline(session: Session, viewer: User, person: Person, instrument: Instrument, reason: str,
            asked_at: datetime | None = None, *, now: datetime) -> MeasureResponse:
    if not (reason or "").strip():
        raise ValidationError({"declined_reason": "Say why the measure was not taken (e.g. they did not want to)."})
    response = MeasureResponse(team_id=person.team_id, person_id=person.id, instrument=instrument.key,
                               instrument_version=instrument.version, asked_by_id=viewer.id,
                               taken_at=_when(asked_at, now), declined_reason=reason.strip(), created_at=now)
    session.add(response)
    session.flush()
    return response


def correct(session: Session, viewer: User, original: MeasureResponse, taken: Taken, reason: str, *,
            now: datetime) -> tuple[MeasureResponse, Result]:
    """A new response that supersedes `original`, keeping when it was asked; the original stays."""
    instrument = instrument_of(session, original)
    errors = {}
    if not (reason or "").strip():
        errors["correction_reason"] = "Say why the answers are being corrected."
    if superseded_ids(session, [original.id]):
        errors[""] = "This response has already been corrected: correct the latest version."
    try:
        result = _checked(instrument, taken)
    except ValidationError as error:
        errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    response = MeasureResponse(team_id=original.team_id, person_id=original.person_id, instrument=original.instrument,
                               instrument_version=instrument.version, asked_by_id=original.asked_by_id,
                               taken_at=original.taken_at, answered=taken.answered,
                               answers=_answers(instrument, taken.answers), total=result.total,
                               band=result.band.label if result.band else None, supersedes_id=original.id,
                               correction_reason=reason.strip(), created_at=now)
    session.add(response)
    session.flush()
    return response, result


# ---- reading ----

def get_response(session: Session, viewer: User, response_id: int) -> MeasureResponse:
    """A response on the viewer's team; a superseded one only for a supervisor (workers see the latest)."""
    response = session.get(MeasureResponse, response_id)
    if response is None or viewer.team_id is None or response.team_id != viewer.team_id:
        raise NotFound
    if viewer.role != "supervisor" and superseded_ids(session, [response.id]):
        raise NotFound
    return response


def superseded_ids(session: Session, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.exec(select(MeasureResponse.supersedes_id).where(MeasureResponse.supersedes_id.in_(ids))).all())


@built_once
def _responses_of(answers: bool):
    query = select(MeasureResponse).where(MeasureResponse.person_id == bindparam("person_id"),
                                          MeasureResponse.team_id == bindparam("team_id"))
    if not answers:
        query = query.options(defer(MeasureResponse.answers, raiseload=True))
    return query.order_by(MeasureResponse.taken_at, MeasureResponse.id)


def responses_for(session: Session, person: Person, *, include_superseded: bool = False,
                  answers: bool = True) -> list[MeasureResponse]:
    """A person's responses, oldest first (one query however many there are). `answers=False`
    leaves each item's answer unread (scores, bands and dates are all a chart or a row needs)."""
    rows = list(session.exec(_responses_of(answers), params={"person_id": person.id, "team_id": person.team_id}).all())
    if include_superseded:
        return rows
    replaced = {row.supersedes_id for row in rows if row.supersedes_id}
    return [row for row in rows if row.id not in replaced]


def scores(responses: list[MeasureResponse], instrument_key: str) -> list[MeasureResponse]:
    """The scored (not declined) current responses for one instrument, oldest first."""
    return [r for r in responses if r.instrument == instrument_key and r.total is not None]


def name_of(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.name if user else ""
