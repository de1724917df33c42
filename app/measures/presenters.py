"""What the measure pages show, computed here so templates only loop."""
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.instruments import Instrument, Prompt
from app.models import MeasureResponse
from app.services.measures import ANSWERED_LABELS


@dataclass
class OptionView:
    value: int
    label: str
    checked: bool
    raises: bool  # choosing it shows the item's prompt (see .prompt-now in app.css)


@dataclass
class ItemView:
    key: str
    number: int
    text: str
    options: list[OptionView]
    error: str | None
    prompt: Prompt | None
    optional: bool
    next_anchor: str  # where "Next question" goes when one question is shown per screen


def items(instrument: Instrument, answers: dict, errors: dict) -> list[ItemView]:
    views = []
    for number, item in enumerate(instrument.items, 1):
        prompt = next((p for p in instrument.prompts if p.item == item.key), None)
        options = [OptionView(o.value, o.label, answers.get(item.key) == o.value,
                              bool(prompt and o.value > prompt.above)) for o in item.options]
        following = instrument.items[number].key if number < len(instrument.items) else None
        views.append(ItemView(item.key, number, item.text, options, errors.get(item.key), prompt, not item.scored,
                              f"item-{following}" if following else "measure-finish"))
    return views


@dataclass
class AnswerLine:
    question: str
    answer: str


def answer_lines(instrument: Instrument, response: MeasureResponse) -> list[AnswerLine]:
    lines = []
    for number, item in enumerate(instrument.items, 1):
        value = response.answers.get(item.key)
        label = next((o.label for o in item.options if o.value == value), "not answered")
        lines.append(AnswerLine(f"{number}. {item.text}", label))
    return lines


@dataclass
class ResponseRow:
    id: int
    when: str
    score: str
    band: str | None
    tone: str
    how: str
    declined: str | None
    corrected: bool
    superseded: bool


def score_text(instrument: Instrument, total: float | None) -> str:
    if total is None:
        return "declined"
    shown = f"{total:.2f}" if instrument.convert else f"{total:g}"
    return f"{shown} of {instrument.maximum:g}"


def tone_of(instrument: Instrument, band: str | None) -> str:
    return next((b.tone for b in instrument.bands if b.label == band), "ok")


def row(instrument: Instrument, response: MeasureResponse, zone: ZoneInfo, superseded: bool = False) -> ResponseRow:
    return ResponseRow(response.id, response.taken_at.astimezone(zone).strftime("%-d %b %Y"), score_text(instrument, response.total),
                       response.band, tone_of(instrument, response.band),
                       "" if response.total is None else ANSWERED_LABELS.get(response.answered, ""),
                       response.declined_reason, response.supersedes_id is not None, superseded)


def local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %-d %b %Y, %H:%M")


def prompts_of(instrument: Instrument, response: MeasureResponse) -> tuple[Prompt, ...]:
    if response.total is None:
        return ()
    return tuple(p for p in instrument.prompts if (response.answers.get(p.item) or 0) > p.above)


