"""A person's scores per instrument, as a chart, a table and one sentence (app/charts.py draws)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup

from app import charts
from app.instruments import NOT_APPLICABLE, Instrument, change
from app.measures import presenters
from app.models import MeasureResponse


@dataclass
class Section:
    instrument: Instrument
    chart: Markup | None
    summary: str
    rows: list[presenters.ResponseRow]
    threshold_note: str
    more: int  # rows left out of a short table (the person's page shows the latest few)


def _number(instrument: Instrument, total: float) -> str:
    return f"{total:.2f}" if instrument.convert else f"{total:g}"


def summary(instrument: Instrument, scored: list[MeasureResponse], zone: ZoneInfo) -> str:
    """One sentence: "PHQ-9 down from 18 to 9 since March: reliable improvement"."""
    if not scored:
        return f"{instrument.name}: no scores yet."
    first, latest = scored[0], scored[-1]
    when = first.taken_at.astimezone(zone)
    if len(scored) == 1:
        band = f" ({first.band})" if first.band else ""
        return f"{instrument.name}: {_number(instrument, first.total)}{band} on {when:%-d %B %Y}; one score so far."
    since = f"{when:%B}" if when.year == latest.taken_at.astimezone(zone).year else f"{when:%B %Y}"
    moved = "down" if latest.total < first.total else "up" if latest.total > first.total else "unchanged"
    numbers = f"{moved} from {_number(instrument, first.total)} to {_number(instrument, latest.total)}" \
        if moved != "unchanged" else f"unchanged at {_number(instrument, latest.total)}"
    verdict = change(instrument, first.total, latest.total)
    if verdict == NOT_APPLICABLE:
        verdict = "not a validated scale, so no reliable-change threshold"
    return f"{instrument.name} {numbers} since {since}: {verdict}"


# Charts drawn lately, by everything they are drawn from: a person's page is opened many times
# between two measures, and the same scores always draw the same SVG (a few KB each).
_DRAWN: OrderedDict[tuple, Markup] = OrderedDict()
_DRAWN_MAX = 512
_DRAWN_LOCK = threading.Lock()


def chart(instrument: Instrument, scored: list[MeasureResponse], zone: ZoneInfo, chart_id: str) -> Markup | None:
    if not scored:
        return None
    key = (instrument, str(zone), chart_id, tuple((r.id, r.total, r.band, r.taken_at) for r in scored))
    with _DRAWN_LOCK:
        if (drawn := _DRAWN.get(key)) is not None:
            _DRAWN.move_to_end(key)
            return drawn
    drawn = _draw(instrument, scored, zone, chart_id)
    with _DRAWN_LOCK:
        _DRAWN[key] = drawn
        while len(_DRAWN) > _DRAWN_MAX:
            _DRAWN.popitem(last=False)
    return drawn


def _draw(instrument: Instrument, scored: list[MeasureResponse], zone: ZoneInfo, chart_id: str) -> Markup:
    points = [charts.Point(r.taken_at, r.total, f"{r.taken_at.astimezone(zone):%-d %b %Y}",
                           _number(instrument, r.total) + (f" ({r.band})" if r.band else "")) for r in scored]
    lines = []
    if instrument.reliable_change is not None:
        step = -instrument.reliable_change if instrument.higher_is_worse else instrument.reliable_change
        lines.append(charts.Line(scored[0].total + step, "reliable improvement"))
        lines.append(charts.Line(scored[0].total - step, "reliable deterioration"))
    bands = instrument.bands  # shaded edge to edge: a band reaches up to where the next begins
    areas = [charts.Area(b.low, bands[i + 1].low if i + 1 < len(bands) else b.high, b.tone, b.label)
             for i, b in enumerate(bands)]
    title = f"{instrument.name} scores over time. " + summary(instrument, scored, zone)
    return charts.line_chart(title=title, points=points, y_min=instrument.minimum, y_max=instrument.maximum,
                             areas=areas, lines=lines, chart_id=chart_id)


def threshold_note(instrument: Instrument) -> str:
    if instrument.reliable_change is None:
        return "Not validated: there is no published reliable-change threshold."
    return f"Dashed lines: {instrument.reliable_change:g} points from the first score, a reliable change."


def sections(current: list[MeasureResponse], shown: list[MeasureResponse], zone: ZoneInfo,
             instruments: dict[str, Instrument], rows: int | None = None) -> list[Section]:
    """One section per instrument the person has responses for, in the instruments' order. `shown`
    are the rows for the table (supervisors also see superseded answers)."""
    found = []
    replaced = {r.supersedes_id for r in shown if r.supersedes_id}
    for key, instrument in instruments.items():
        found_rows = [r for r in shown if r.instrument == key]
        if not found_rows:
            continue
        scored = [r for r in current if r.instrument == key and r.total is not None]
        newest = found_rows[::-1][:rows]  # only the rows the table shows are drawn
        table = [presenters.row(instrument, r, zone, r.id in replaced) for r in newest]
        found.append(Section(instrument, chart(instrument, scored, zone, f"chart-{key}"),
                             summary(instrument, scored, zone), table, threshold_note(instrument),
                             len(found_rows) - len(newest)))
    return found
