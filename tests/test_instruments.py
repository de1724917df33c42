"""Scoring reproduces each instrument's published totals and bands, item by item, edges included."""
import pytest

from app.instruments import (DETERIORATED, IMPROVED, INSTRUMENTS, NO_CHANGE, NOT_APPLICABLE, change, choosable,
                             score, team_scale)
from app.services import ValidationError


def answers(*values, **extra):
    return {f"q{n}": v for n, v in enumerate(values, 1)} | extra


@pytest.mark.parametrize("values, total, band", [
    ((0,) * 9, 0, "Minimal"),
    ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "Minimal"),
    ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "Mild"),
    ((2, 2, 2, 1, 1, 1, 0, 0, 0), 9, "Mild"),
    ((2, 2, 2, 2, 1, 1, 0, 0, 0), 10, "Moderate"),
    ((2, 2, 2, 2, 2, 2, 1, 1, 0), 14, "Moderate"),
    ((3, 3, 2, 2, 2, 1, 1, 1, 0), 15, "Moderately severe"),
    ((3, 3, 3, 3, 2, 2, 2, 1, 0), 19, "Moderately severe"),
    ((3, 3, 3, 3, 3, 2, 2, 1, 0), 20, "Severe"),
    ((3,) * 9, 27, "Severe"),
])
def test_phq9_totals_and_bands(values, total, band):
    result = score(INSTRUMENTS["phq9"], answers(*values))
    assert (result.total, result.band.label) == (total, band)


def test_phq9_item_9_above_zero_prompts_to_ask_about_suicidal_thoughts_and_offers_a_crisis_referral():
    phq9 = INSTRUMENTS["phq9"]
    assert score(phq9, answers(0, 0, 0, 0, 0, 0, 0, 0, 0)).prompts == ()
    prompt, = score(phq9, answers(0, 0, 0, 0, 0, 0, 0, 0, 1)).prompts
    assert prompt.text.startswith("Ask about suicidal thoughts now") and prompt.crisis_route == "mental_health"


def test_phq9_difficulty_question_is_optional_and_adds_nothing():
    phq9 = INSTRUMENTS["phq9"]
    assert score(phq9, answers(*(3,) * 9, q10=3)).total == 27
    with pytest.raises(ValidationError) as refused:
        score(phq9, answers(*(0,) * 9, q10=7))
    assert set(refused.value.errors) == {"q10"}


@pytest.mark.parametrize("key, count", [("phq9", 9), ("gad7", 7), ("core10", 10), ("swemwbs", 7)])
def test_one_item_missing_or_out_of_range_is_refused_by_item(key, count):
    instrument = INSTRUMENTS[key]
    low = instrument.items[0].options[0].value
    complete = {f"q{n}": low for n in range(1, count + 1)}
    for missing in complete:
        with pytest.raises(ValidationError) as refused:
            score(instrument, {k: v for k, v in complete.items() if k != missing})
        assert set(refused.value.errors) == {missing}
    with pytest.raises(ValidationError) as refused:
        score(instrument, complete | {"q2": 9})
    assert set(refused.value.errors) == {"q2"} and "not one of" in refused.value.errors["q2"]
    with pytest.raises(ValidationError):
        score(instrument, complete | {"q1": -1})


@pytest.mark.parametrize("values, total, band", [
    ((0,) * 7, 0, "Minimal"), ((1, 1, 1, 1, 0, 0, 0), 4, "Minimal"), ((1, 1, 1, 1, 1, 0, 0), 5, "Mild"),
    ((2, 2, 2, 1, 1, 1, 0), 9, "Mild"), ((2, 2, 2, 2, 1, 1, 0), 10, "Moderate"),
    ((2, 2, 2, 2, 2, 2, 2), 14, "Moderate"), ((3, 3, 3, 2, 2, 1, 1), 15, "Severe"), ((3,) * 7, 21, "Severe"),
])
def test_gad7_totals_and_bands(values, total, band):
    result = score(INSTRUMENTS["gad7"], answers(*values))
    assert (result.total, result.band.label) == (total, band)


# CORE-10 answers are stored as the position of the option (0 "Not at all" … 4 "Most or all of the
# time"); items 2 and 3 are worded positively and count backwards.
@pytest.mark.parametrize("values, total, band", [
    ((0, 4, 4, 0, 0, 0, 0, 0, 0, 0), 0, "Healthy"),  # the least distress the form can record
    ((0,) * 10, 8, "Low level"),  # "Not at all" everywhere: no support and unable to cope count 4 each
    ((1, 4, 4, 1, 1, 0, 1, 1, 0, 0), 5, "Healthy"),
    ((1, 3, 3, 1, 1, 0, 1, 1, 1, 0), 8, "Low level"),
    ((1, 2, 2, 1, 1, 0, 1, 1, 1, 1), 11, "Mild"),
    ((2, 2, 2, 2, 1, 0, 1, 2, 2, 2), 16, "Moderate"),
    ((3, 2, 2, 2, 2, 0, 2, 2, 3, 2), 20, "Moderate-to-severe"),
    ((3, 1, 1, 3, 3, 0, 3, 3, 3, 3), 27, "Severe"),
    ((4,) * 10, 32, "Severe"),  # "Most or all of the time" everywhere: support and coping count 0
    ((4, 0, 0, 4, 4, 4, 4, 4, 4, 4), 40, "Severe"),  # the most distress the form can record
])
def test_core10_totals_and_bands_with_items_2_and_3_reversed(values, total, band):
    result = score(INSTRUMENTS["core10"], answers(*values))
    assert (result.total, result.band.label) == (total, band)


def test_core10_carries_its_copyright_line_and_prompts_on_the_plans_item():
    core10 = INSTRUMENTS["core10"]
    assert core10.copyright_line == "© CORE System Trust: https://www.coresystemtrust.org.uk/copyright.pdf"
    assert "may not be changed" in core10.licence
    assert score(core10, answers(0, 4, 4, 0, 0, 1, 0, 0, 0, 0)).prompts[0].crisis_route == "mental_health"


@pytest.mark.parametrize("values, metric", [
    ((1,) * 7, 7.00), ((1, 1, 1, 1, 1, 1, 2), 9.51), ((3,) * 7, 19.25), ((4, 4, 4, 4, 3, 3, 3), 22.35),
    ((4,) * 7, 25.03), ((5, 5, 5, 5, 5, 5, 4), 32.55), ((5,) * 7, 35.00),
])
def test_swemwbs_reports_the_published_metric_score(values, metric):
    result = score(INSTRUMENTS["swemwbs"], answers(*values))
    assert result.total == metric and result.band is None


def test_swemwbs_is_offered_only_once_the_organisation_holds_a_licence():
    assert "swemwbs" not in [i.key for i in choosable(set())]
    assert [i.key for i in choosable({"wemwbs"})] == ["phq9", "gad7", "core10", "swemwbs"]
    assert INSTRUMENTS["swemwbs"].may_ship is False


@pytest.mark.parametrize("key, first, latest, verdict", [
    ("phq9", 18, 12, IMPROVED), ("phq9", 18, 13, NO_CHANGE), ("phq9", 9, 15, DETERIORATED), ("phq9", 9, 14, NO_CHANGE),
    ("gad7", 15, 11, IMPROVED), ("gad7", 15, 12, NO_CHANGE), ("gad7", 5, 9, DETERIORATED),
    ("core10", 20, 14, IMPROVED), ("core10", 20, 15, NO_CHANGE), ("core10", 11, 17, DETERIORATED),
    ("swemwbs", 19.25, 22.35, IMPROVED), ("swemwbs", 19.25, 21.54, NO_CHANGE), ("swemwbs", 22.35, 19.25, DETERIORATED),
])
def test_reliable_change_uses_each_instruments_published_threshold_and_direction(key, first, latest, verdict):
    assert change(INSTRUMENTS[key], first, latest) == verdict


def test_a_teams_own_scale_is_labelled_not_validated_and_has_no_threshold():
    housing = team_scale("team-1", "Housing", "How settled is your housing?", "not at all", "completely")
    assert housing.validated is False and "not validated" in housing.title
    assert score(housing, {"q1": 7}).total == 7 and score(housing, {"q1": 7}).band is None
    assert change(housing, 2, 9) == NOT_APPLICABLE
    with pytest.raises(ValidationError):
        score(housing, {"q1": 11})


def test_every_instrument_cites_its_sources_and_licence():
    for instrument in INSTRUMENTS.values():
        assert instrument.source and instrument.licence and instrument.reliable_change_source
        assert instrument.reliable_change is not None and instrument.version
        totals = [o.score for o in instrument.items[0].options]
        assert min(totals) >= 0
