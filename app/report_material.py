"""What the record says about a person over a period, for drafting reports from it.

Each feature contributes material from its own package, in a module `app/<feature>/report.py`
with a `register(material)` function: named topics (a template's section lists the topics it draws
on), each a loader answering sentences that carry where they came from (a link to the record);
and, for a feature whose tables the subject-access export does not already read, a holding (its
rows about the person).
Features are found by their blueprint, so a new one (plans, orders) plugs in by adding that one
file; the reports blueprint imports no feature's service.

Loaders get one `PeriodView` and must answer with a fixed number of queries however long the
record is.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import Flask
from sqlmodel import Session

from app.models import Person


@dataclass(frozen=True)
class Sentence:
    """One sentence of a pre-filled section. `in_period` is False for what is true now whatever the
    period (the current risk level): a period with only such sentences has nothing to report."""
    text: str
    href: str | None = None
    label: str = ""
    in_period: bool = True
    chart: str | None = None  # an SVG drawn by app/charts.py, placed in the section (page and PDF)
    key: str | None = None  # names a sentence the worker may choose (an extract): stable, no personal data

    def as_source(self) -> dict[str, Any]:
        return {"text": self.text, "href": self.href, "label": self.label}


@dataclass
class PeriodView:
    session: Session
    person: Person
    start: date
    end: date
    zone: ZoneInfo
    now: datetime
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def starts_at(self) -> datetime:
        """The period's first moment (local midnight on the first day), aware."""
        return datetime.combine(self.start, time(), self.zone)

    @property
    def ends_at(self) -> datetime:
        """The moment after the period (local midnight after the last day)."""
        return datetime.combine(self.end + timedelta(days=1), time(), self.zone)

    def holds(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    def shared(self, key: str, load: Callable[[], Any]) -> Any:
        """Load something once for several topics of one feature."""
        if key not in self._shared:
            self._shared[key] = load()
        return self._shared[key]


@dataclass(frozen=True)
class Topic:
    name: str
    load: Callable[[PeriodView], list[Sentence]]


@dataclass(frozen=True)
class Summary:
    """How a holding reads in the subject-access PDF summary: a heading, and one line per row
    (a date or label, and the words) drawn from the rows as exported (after any redaction)."""
    heading: str
    line: Callable[[dict[str, Any]], tuple[str, str]]


class Material:
    def __init__(self) -> None:
        self._topics: dict[str, Topic] = {}
        self._holdings: dict[str, Callable[[Session, Person], list[dict[str, Any]]]] = {}
        self._summaries: dict[str, Summary] = {}
        self._choices: dict[str, Callable[[PeriodView], list[Sentence]]] = {}

    def topic(self, name: str, load: Callable[[PeriodView], list[Sentence]]) -> None:
        if name in self._topics:
            raise ValueError(f"a topic named {name!r} is already offered")
        self._topics[name] = Topic(name, load)

    def holding(self, name: str, load: Callable[[Session, Person], list[dict[str, Any]]],
                summary: Summary | None = None) -> None:
        """What else a feature holds about a person, for their own copy (subject access): rows as
        JSON-ready dicts under `name` in record.json, their free text reviewed for third parties;
        with a `summary`, a section of the PDF summary too."""
        if name in self._holdings:
            raise ValueError(f"a holding named {name!r} is already offered")
        self._holdings[name] = load
        if summary is not None:
            self._summaries[name] = summary

    def holdings(self, session: Session, person: Person) -> dict[str, list[dict[str, Any]]]:
        return {name: load(session, person) for name, load in self._holdings.items()}

    def summaries(self) -> dict[str, Summary]:
        return dict(self._summaries)

    def choosable(self, name: str, load: Callable[[PeriodView], list[Sentence]]) -> None:
        """Everything a topic could quote for the period (each sentence with a `key`): the worker
        picks which go in the section (the topic's own pre-fill is a first choice)."""
        if name not in self._topics or name in self._choices:
            raise ValueError(f"{name!r} is not an offered topic, or already has choices")
        self._choices[name] = load

    def choices(self, view: PeriodView, topics: tuple[str, ...]) -> list[Sentence]:
        found: list[Sentence] = []
        for name in topics:
            if name in self._choices:
                found.extend(self._choices[name](view))
        return found

    def offers_choices(self, topics: tuple[str, ...]) -> bool:
        return any(name in self._choices for name in topics)

    def has(self, name: str) -> bool:
        return name in self._topics

    def sentences(self, view: PeriodView, topics: tuple[str, ...]) -> list[Sentence]:
        """What the named topics say, in the order named; a topic no feature offers says nothing."""
        found: list[Sentence] = []
        for name in topics:
            if name in self._topics:
                found.extend(self._topics[name].load(view))
        return found


def material(app: Flask) -> Material:
    """The registry, filled on first use from every registered blueprint's `report` module."""
    found = app.extensions.get("fieldline.report_material")
    if found is None:
        found = Material()
        for blueprint in app.blueprints.values():
            module = f"{blueprint.import_name}.report"
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module).register(found)
        app.extensions["fieldline.report_material"] = found
    return found
