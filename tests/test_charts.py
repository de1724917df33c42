"""The measures' SVG charts, read back as XML: every band of the instrument shaded where its scores
lie, each point dated, the reliable-change thresholds marked where they fall; and the sentence and
the table that say the same in words. Plain functions, no database."""
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app import charts as drawing
from app.instruments import INSTRUMENTS, team_scale
from app.measures import charts
from app.models import MeasureResponse

SVG = "{http://www.w3.org/2000/svg}"
ZONE = ZoneInfo("Europe/London")
PLOT_TOP, PLOT_BOTTOM = drawing.TOP, drawing.HEIGHT - drawing.BOTTOM


def scores(instrument, totals, *, start=datetime(2026, 3, 2, 10, tzinfo=UTC)):
    band_of = {b.label: b for b in instrument.bands}
    found = []
    for number, total in enumerate(totals, 1):
        band = next((label for label, b in band_of.items() if b.low <= total <= b.high), None)
        found.append(MeasureResponse(id=number, team_id=1, person_id=1, instrument=instrument.key,
                                     instrument_version=instrument.version, asked_by_id=1, answers={},
                                     taken_at=start.replace(month=start.month + number - 1), total=total, band=band))
    return found


def drawn(instrument, responses):
    return ET.fromstring(str(charts._draw(instrument, responses, ZONE, f"chart-{instrument.key}")))


def of_class(svg, tag, name):
    return [e for e in svg.iter(SVG + tag) if name in (e.get("class") or "").split()]


def y_of(instrument, value):
    """Where a score sits: the plot's bottom is the instrument's minimum, its top the maximum."""
    share = (value - instrument.minimum) / (instrument.maximum - instrument.minimum)
    return PLOT_BOTTOM - share * (PLOT_BOTTOM - PLOT_TOP)


@pytest.mark.parametrize("key, totals", [("phq9", (18, 12, 9)), ("gad7", (15, 10, 6)), ("core10", (24, 16, 11)),
                                         ("swemwbs", (14, 17, 20))])
def test_each_band_of_the_instrument_is_shaded_where_its_scores_lie(key, totals):
    instrument = INSTRUMENTS[key]
    svg = drawn(instrument, scores(instrument, totals))
    bands = of_class(svg, "rect", "chart__band")
    assert len(bands) == len(instrument.bands)  # SWEMWBS publishes none, so none are drawn
    for band, rect in zip(instrument.bands, bands):
        top, bottom = float(rect.get("y")), float(rect.get("y")) + float(rect.get("height"))
        assert top - 0.1 <= y_of(instrument, band.high) and y_of(instrument, band.low) <= bottom + 0.1, band
        assert rect.get("class").endswith(f"chart__band--{band.tone}") and rect.get("fill") == drawing.BAND_FILLS[band.tone]
        assert rect.find(SVG + "title").text.startswith(f"{band.label}: ")
    if bands:  # edge to edge, from the minimum to the maximum, lowest scores at the bottom
        edges = [(float(r.get("y")), float(r.get("y")) + float(r.get("height"))) for r in bands]
        assert edges[0][1] == pytest.approx(PLOT_BOTTOM, abs=0.1) and edges[-1][0] == pytest.approx(PLOT_TOP, abs=0.1)
        assert all(below[0] == pytest.approx(above[1], abs=0.1) for below, above in zip(edges, edges[1:]))


def test_each_point_is_dated_and_placed_at_its_score():
    phq9 = INSTRUMENTS["phq9"]
    svg = drawn(phq9, scores(phq9, (18, 12, 9)))
    points = of_class(svg, "circle", "chart__point")
    assert [p.find(SVG + "title").text for p in points] == [
        "2 Mar 2026: 18 (Moderately severe)", "2 Apr 2026: 12 (Moderate)", "2 May 2026: 9 (Mild)"]
    assert [float(p.get("cy")) for p in points] == pytest.approx([y_of(phq9, v) for v in (18, 12, 9)], abs=0.1)
    xs = [float(p.get("cx")) for p in points]
    assert xs == sorted(xs) and len(set(xs)) == 3  # in time order
    assert [t.text for t in of_class(svg, "text", "chart__date")] == ["2 Mar 2026", "2 Apr 2026", "2 May 2026"]
    many = drawn(phq9, scores(phq9, (18, 16, 14, 12, 10, 9)))  # too many to label: all dated, the ends written
    assert len(of_class(many, "circle", "chart__point")) == 6
    assert all(p.find(SVG + "title").text.endswith(")") for p in of_class(many, "circle", "chart__point"))
    assert [t.text for t in of_class(many, "text", "chart__date")] == ["2 Mar 2026", "2 Aug 2026"]


@pytest.mark.parametrize("key, first, improved_at, worse_at", [
    ("phq9", 18, 12, 24), ("gad7", 15, 11, 19), ("core10", 24, 18, 30),
    ("swemwbs", 20, 22.87, 17.13),  # higher is better: improvement is above the first score
])
def test_the_reliable_change_thresholds_are_marked_from_the_first_score(key, first, improved_at, worse_at):
    instrument = INSTRUMENTS[key]
    svg = drawn(instrument, scores(instrument, (first, first)))
    marks = {line.find(SVG + "title").text: float(line.get("y1")) for line in of_class(svg, "line", "chart__threshold")}
    assert marks == pytest.approx({"reliable improvement": y_of(instrument, improved_at),
                                   "reliable deterioration": y_of(instrument, worse_at)}, abs=0.1)
    assert charts.threshold_note(instrument) == \
        f"Dashed lines: {instrument.reliable_change:g} points from the first score, a reliable change."


def test_a_threshold_off_the_scale_is_left_out_and_a_team_scale_has_none():
    phq9 = INSTRUMENTS["phq9"]
    marks = of_class(drawn(phq9, scores(phq9, (24, 20))), "line", "chart__threshold")
    assert [m.find(SVG + "title").text for m in marks] == ["reliable improvement"]  # 24 + 6 is above 27
    scale = team_scale("team:1", "Housing", "How settled is your housing?", "not at all", "completely")
    svg = drawn(scale, scores(scale, (3, 7)))
    assert of_class(svg, "line", "chart__threshold") == [] and of_class(svg, "rect", "chart__band") == []
    assert charts.threshold_note(scale) == "Not validated: there is no published reliable-change threshold."


def test_the_sentence_and_the_table_below_say_the_same_in_words():
    phq9 = INSTRUMENTS["phq9"]
    responses = scores(phq9, (18, 12, 9))
    section, = charts.sections(responses, responses, ZONE, {"phq9": phq9})
    assert section.summary == "PHQ-9 down from 18 to 9 since March: reliable improvement"
    assert [(r.when, r.score, r.band) for r in section.rows] == [  # newest first
        ("2 May 2026", "9 of 27", "Mild"), ("2 Apr 2026", "12 of 27", "Moderate"),
        ("2 Mar 2026", "18 of 27", "Moderately severe")]
    title = ET.fromstring(str(section.chart)).find(SVG + "title").text
    assert title == "PHQ-9 scores over time. PHQ-9 down from 18 to 9 since March: reliable improvement"
    short, = charts.sections(responses, responses, ZONE, {"phq9": phq9}, rows=2)
    assert len(short.rows) == 2 and short.more == 1
    assert charts.summary(phq9, responses[:1], ZONE) == "PHQ-9: 18 (Moderately severe) on 2 March 2026; one score so far."
    assert charts.summary(phq9, [], ZONE) == "PHQ-9: no scores yet."
