"""Outcome measures as code: one module per instrument, each with its items, answer options,
scoring (a pure function of the answers), bands, reliable-change threshold with its published
source, version, licence text and whether the licence lets us ship it.

Nothing here touches the database or a request: `score()` and `change()` are what the measures
feature, the charts and the manager's figures all call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from app.services import ValidationError


@dataclass(frozen=True)
class Option:
    value: int  # what is stored for this answer
    label: str
    score: int  # what it counts towards the total (reversed items count backwards)


@dataclass(frozen=True)
class Item:
    key: str
    text: str
    options: tuple[Option, ...]
    scored: bool = True  # an unscored item (PHQ-9's "how difficult") is optional and adds nothing


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    label: str
    tone: str  # ok / warn / danger, for the tag's colour (always with the label's words)


@dataclass(frozen=True)
class Prompt:
    """Shown at once when an answer calls for it (e.g. thoughts of self-harm)."""
    item: str
    above: int
    text: str
    crisis_route: str | None = None  # a referral route the prompt offers to start


@dataclass(frozen=True)
class Instrument:
    key: str
    name: str
    title: str
    version: str
    stem: str
    items: tuple[Item, ...]
    minimum: float
    maximum: float
    higher_is_worse: bool
    bands: tuple[Band, ...]
    reliable_change: float | None
    reliable_change_source: str
    source: str
    licence: str
    may_ship: bool
    copyright_line: str | None = None
    needs_licence: str | None = None  # the organisation must record this licence before use
    validated: bool = True
    prompts: tuple[Prompt, ...] = ()
    convert: Callable[[int], float] | None = None  # raw total → reported score (SWEMWBS's metric)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)


@dataclass(frozen=True)
class Result:
    total: float
    band: Band | None
    prompts: tuple[Prompt, ...] = field(default_factory=tuple)


def frequency(labels: tuple[str, ...], *, start: int = 0, reverse: bool = False) -> tuple[Option, ...]:
    """Options stored as their position, scored from `start` upwards (or downwards when reversed)."""
    count = len(labels)
    return tuple(Option(start + i, label, start + (count - 1 - i if reverse else i)) for i, label in enumerate(labels))


def score(instrument: Instrument, answers: Mapping[str, int | None]) -> Result:
    """The total, band and prompts for a complete set of answers. An unanswered scored item, or an
    answer that is not one of the item's options, is refused (ValidationError, by item key): a
    total is never guessed from part of a form."""
    errors = {}
    total = 0
    for item in instrument.items:
        answer = answers.get(item.key)
        if answer is None:
            if item.scored:
                errors[item.key] = "Choose an answer (or mark the measure as declined)."
            continue
        option = next((o for o in item.options if o.value == answer), None)
        if option is None:
            errors[item.key] = "That answer is not one of this question's options."
        elif item.scored:
            total += option.score
    if errors:
        raise ValidationError(errors)
    reported = instrument.convert(total) if instrument.convert else total
    prompts = tuple(p for p in instrument.prompts if (answers.get(p.item) or 0) > p.above)
    return Result(reported, band_for(instrument, reported), prompts)


def band_for(instrument: Instrument, total: float) -> Band | None:
    return next((b for b in instrument.bands if b.low <= total <= b.high), None)


IMPROVED, NO_CHANGE, DETERIORATED, NOT_APPLICABLE = "reliable improvement", "no reliable change", \
    "reliable deterioration", "no reliable-change threshold"


def change(instrument: Instrument, first: float, latest: float) -> str:
    """Reliable change between two scores: a move of at least the instrument's published threshold,
    in the direction that means better or worse for this instrument."""
    if instrument.reliable_change is None:
        return NOT_APPLICABLE
    moved = latest - first
    better = -moved if instrument.higher_is_worse else moved
    if better >= instrument.reliable_change:
        return IMPROVED
    if -better >= instrument.reliable_change:
        return DETERIORATED
    return NO_CHANGE


def team_scale(key: str, name: str, question: str, low_label: str, high_label: str, *,
               higher_is_worse: bool = False) -> Instrument:
    """A team's own 0–10 scale (e.g. "How settled is your housing?"): useful, but not validated,
    so it has no bands and no reliable-change threshold, and says so wherever it is shown."""
    labels = tuple(f"{n} — {low_label}" if n == 0 else f"{n} — {high_label}" if n == 10 else str(n) for n in range(11))
    return Instrument(
        key=key, name=name, title=f"{name} (the team's own scale, not validated)", version="team",
        stem=f"From 0 ({low_label}) to 10 ({high_label}):",
        items=(Item("q1", question, frequency(labels)),), minimum=0, maximum=10, higher_is_worse=higher_is_worse,
        bands=(), reliable_change=None, reliable_change_source="Not validated: no published threshold.",
        source="Written by the team.", licence="The team's own wording.", may_ship=True, validated=False)


def _registered() -> dict[str, Instrument]:
    from app.instruments import core10, gad7, phq9, swemwbs

    return {module.INSTRUMENT.key: module.INSTRUMENT for module in (phq9, gad7, core10, swemwbs)}


INSTRUMENTS: dict[str, Instrument] = _registered()


def choosable(licences: set[str]) -> list[Instrument]:
    """The validated instruments a worker may offer, given the licences the organisation recorded."""
    return [i for i in INSTRUMENTS.values() if i.needs_licence is None or i.needs_licence in licences]
