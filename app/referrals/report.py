"""What referrals offer reports: referrals made in the period and where they stand, and the DASH."""
from flask import url_for

from app.report_material import Material, PeriodView, Sentence
from app.services import referrals as service


def _all(view: PeriodView):
    return view.shared("referrals", lambda: service.for_person(view.session, view.person))


def referrals(view: PeriodView) -> list[Sentence]:
    found = sorted((r for r in _all(view) if view.holds(r.created_at)), key=lambda r: r.created_at)
    sentences = []
    for referral in found:
        made = (referral.sent_at or referral.created_at).astimezone(view.zone)
        sentences.append(Sentence(
            f"{made:%-d %B %Y}: referred to {service.ROUTE_TEMPLATES[referral.route].label.lower()}; "
            f"status: {service.STATUS_LABELS[referral.status].lower()}.",
            url_for("referrals.show", referral_id=referral.id), f"Referral {service.reference(referral)}"))
    return sentences


def dash(view: PeriodView) -> list[Sentence]:
    """The latest DASH checklist up to the period's end (it may be older than the period: say when)."""
    done = [r for r in _all(view) if r.dash_score is not None and r.created_at < view.ends_at]
    if not done:
        return []
    latest = max(done, key=lambda r: r.created_at)
    when = latest.created_at.astimezone(view.zone)
    text = (f"DASH risk checklist completed {when:%-d %B %Y}: {latest.dash_score} of 24 answered yes"
            + (f"; referred to MARAC (threshold {service.MARAC_THRESHOLD} or professional judgement)."
               if latest.marac else "; not referred to MARAC."))
    return [Sentence(text, url_for("referrals.show", referral_id=latest.id), f"DASH {service.reference(latest)}",
                     in_period=view.holds(latest.created_at))]


def register(material: Material) -> None:
    material.topic("referrals", referrals)
    material.topic("dash", dash)
