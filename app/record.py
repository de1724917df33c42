"""A person's record, composed from the features.

Each feature says what it adds to a person's page from its own package, once, when its blueprint
is registered: a summary card (a partial and a function that loads what the partial needs) and
timeline entries (kind, moment, partial). The person route asks the registry and imports no
feature's service, so a new kind of casework plugs in without touching the caseload.

Loaders get one `PersonView` and must answer with a fixed number of queries however long the
record is (batch what each entry needs; never a query per entry): it is a daily page. The timeline
is shown a page at a time (`Window`): a loader answers at most `view.window.fetch` of its newest
entries at or before `view.window.before`, so a page costs the same after two years as after a week.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Callable, Iterable, Mapping
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask
from sqlmodel import Session

from app.models import Person, User
from app.services import people


@dataclass(frozen=True)
class Entry:
    """One line of a person's timeline: `partial` is drawn with `entry` (this) in its context."""
    kind: str
    moment: datetime
    partial: str
    data: Mapping[str, Any] = field(default_factory=dict)


TIMELINE_PAGE = 20


@dataclass(frozen=True)
class Window:
    """The part of the timeline one page shows: its newest `size` entries at or before `before`
    (None: the newest of all)."""
    before: datetime | None = None
    size: int = TIMELINE_PAGE

    @property
    def fetch(self) -> int:
        """How many entries a loader answers at most: one more than a page, to know if there are more."""
        return self.size + 1

    def keeps(self, moment: datetime) -> bool:
        return self.before is None or moment <= self.before

    def local_before(self, zone: ZoneInfo) -> datetime | None:
        """`before` as a naive local time, for entries stored in local time (appointments)."""
        return None if self.before is None else self.before.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class TimelinePage:
    """A page of entries, newest first, and where the next one starts (None: this is the last)."""
    entries: list[Entry]
    earlier: datetime | None


@dataclass
class PersonView:
    """What a loader is given: whose record, who is looking, and when."""
    session: Session
    viewer: User
    person: Person
    now: datetime
    zone: ZoneInfo
    window: Window = field(default_factory=Window)
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)

    def shared(self, key: str, load: Callable[[], Any]) -> Any:
        """Load something once for a feature's card and its timeline entries alike."""
        if key not in self._shared:
            self._shared[key] = load()
        return self._shared[key]

    @cached_property
    def authors(self) -> dict[int, str]:
        """The team's names by id, loaded once for every kind that shows who did what."""
        return people.team_worker_names(self.session, self.person.team_id)


@dataclass(frozen=True)
class Card:
    """A summary card: `load` answers the partial's data, or None when there is nothing to show."""
    name: str
    partial: str
    load: Callable[[PersonView], Mapping[str, Any] | None]
    order: int


@dataclass(frozen=True)
class ShownCard:
    name: str
    partial: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Timeline:
    kind: str
    load: Callable[[PersonView], Iterable[Entry]]
    order: int


class Record:
    """The registry of what the features contribute to a person's page."""

    def __init__(self) -> None:
        self._cards: dict[str, Card] = {}
        self._timelines: dict[str, Timeline] = {}

    def card(self, name: str, partial: str, load: Callable[[PersonView], Mapping[str, Any] | None], *,
             order: int) -> None:
        if name in self._cards:
            raise ValueError(f"a card named {name!r} is already on the record")
        self._cards[name] = Card(name, partial, load, order)

    def timeline(self, kind: str, load: Callable[[PersonView], Iterable[Entry]], *, order: int) -> None:
        """`order` breaks ties between kinds at the same moment (lower first)."""
        if kind in self._timelines:
            raise ValueError(f"timeline entries of kind {kind!r} are already on the record")
        self._timelines[kind] = Timeline(kind, load, order)

    def cards_for(self, view: PersonView) -> list[ShownCard]:
        shown = []
        for card in sorted(self._cards.values(), key=lambda c: c.order):
            data = card.load(view)
            if data is not None:
                shown.append(ShownCard(card.name, card.partial, data))
        return shown

    def timeline_for(self, view: PersonView) -> TimelinePage:
        """A page of every kind's entries, newest first (a stable sort: ties keep the kinds' order).
        The next page starts at the first moment not shown in full, so entries sharing a moment
        are never split between pages (unless a whole page shares one)."""
        window = view.window
        entries: list[Entry] = []
        for timeline in sorted(self._timelines.values(), key=lambda t: t.order):
            entries.extend(entry for entry in timeline.load(view) if window.keeps(entry.moment))
        entries.sort(key=lambda entry: entry.moment, reverse=True)
        if len(entries) <= window.size:
            return TimelinePage(entries, None)
        cut = entries[window.size].moment
        shown = [entry for entry in entries[:window.size] if entry.moment > cut]
        if not shown:  # a whole page at one moment: show it and go on strictly before it
            return TimelinePage(entries[:window.size], cut - timedelta(microseconds=1))
        return TimelinePage(shown, cut)


def registry(app: Flask) -> Record:
    return app.extensions.setdefault("fieldline.record", Record())


def on_the_record(bp: Blueprint):
    """Decorate a feature's `register(record)`: it runs once, when the blueprint is registered."""
    def decorator(register: Callable[[Record], None]):
        bp.record_once(lambda state: register(registry(state.app)))
        return register

    return decorator
