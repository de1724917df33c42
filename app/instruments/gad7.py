"""GAD-7, the Generalized Anxiety Disorder scale (seven items, 0–21).

Source: Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized
anxiety disorder: the GAD-7. Arch Intern Med 2006;166(10):1092–1097 (items, scoring and the
5/10/15 severity bands).
Reliable change: NHS Talking Therapies for anxiety and depression counts a change of 4 or more
points on the GAD-7 as reliable — NHS Talking Therapies Manual (formerly the IAPT Manual).
Licence: as the PHQ-9 (Pfizer educational grant); no permission is required to reproduce,
translate, display or distribute it.
"""
from app.instruments import Band, Instrument, Item, frequency

ANSWERS = frequency(("Not at all", "Several days", "More than half the days", "Nearly every day"))

INSTRUMENT = Instrument(
    key="gad7", name="GAD-7", title="Generalized Anxiety Disorder assessment (GAD-7)",
    version="GAD-7 (Spitzer et al. 2006)",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=tuple(Item(f"q{n}", text, ANSWERS) for n, text in enumerate((
        "Feeling nervous, anxious or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid as if something awful might happen",
    ), start=1)),
    minimum=0, maximum=21, higher_is_worse=True,
    bands=(Band(0, 4, "Minimal", "ok"), Band(5, 9, "Mild", "ok"), Band(10, 14, "Moderate", "warn"),
           Band(15, 21, "Severe", "danger")),
    reliable_change=4,
    reliable_change_source="NHS Talking Therapies for anxiety and depression Manual (NHS England): a change of "
                           "4 or more points on the GAD-7 is reliable.",
    source="Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized anxiety "
           "disorder: the GAD-7. Arch Intern Med 2006;166(10):1092–1097.",
    licence="Developed by Drs Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
            "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
            "distribute.",
    may_ship=True,
)
