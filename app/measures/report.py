"""What measures offer reports: each instrument's scores in the period, first to latest, with the
band and whether the change is reliable by the instrument's published threshold, and its chart
(the measure charts: drawn into the PDF; the sentence is the editable text summary)."""
from flask import url_for

from app.instruments import change
from app.measures.charts import chart
from app.report_material import Material, PeriodView, Sentence
from app.services import measures


def _score(value: float) -> str:
    return f"{value:g}"


def scores(view: PeriodView) -> list[Sentence]:
    current = [r for r in measures.responses_for(view.session, view.person) if view.holds(r.taken_at)]
    instruments = measures.instruments_for(view.session, view.person.team_id, current)
    sentences = []
    for key in dict.fromkeys(r.instrument for r in current):
        scored = measures.scores(current, key)
        if not scored:
            continue
        instrument, first, latest = instruments[key], scored[0], scored[-1]
        band = f" ({latest.band})" if latest.band else ""
        if len(scored) == 1:
            text = (f"{instrument.name}: {_score(latest.total)}{band} on "
                    f"{latest.taken_at.astimezone(view.zone):%-d %B %Y}.")
        else:
            text = (f"{instrument.name}: {_score(first.total)} on {first.taken_at.astimezone(view.zone):%-d %B %Y}, "
                    f"{_score(latest.total)}{band} on {latest.taken_at.astimezone(view.zone):%-d %B %Y} "
                    f"({len(scored)} times): {change(instrument, first.total, latest.total)}.")
        drawn = chart(instrument, scored, view.zone, f"report-chart-{key}")
        sentences.append(Sentence(text, url_for("measures.show", response_id=latest.id), instrument.name,
                                  chart=str(drawn) if drawn else None))
    return sentences


def register(material: Material) -> None:
    material.topic("measures", scores)
