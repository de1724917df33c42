"""CORE-10, Clinical Outcomes in Routine Evaluation (ten items, 0–40; items 2 and 3 count backwards).

Source: Barkham M, Bewick B, Mullin T, et al. The CORE-10: a short measure of psychological
distress for routine use in the psychological therapies. Counselling and Psychotherapy Research
2013;13(1):3–13 — clinical cut-off 11, reliable change index (90% CI) of 6 points. Bands: Connell J,
Barkham M. CORE-10 User Manual, version 1.0 (2007): healthy, low level, mild, moderate,
moderate-to-severe, severe.
Licence: © CORE System Trust, under Creative Commons Attribution-NonCommercial-NoDerivatives 4.0
(https://www.coresystemtrust.org.uk/home/copyright-licensing/): free to reproduce in software for
non-commercial use, the wording, order and options must NOT be changed in any way, and the
copyright line must be visible wherever the measure is shown. Do not edit the text below.
"""
from app.instruments import Band, Instrument, Item, Prompt, frequency

LABELS = ("Not at all", "Only occasionally", "Sometimes", "Often", "Most or all of the time")
FORWARD = frequency(LABELS)
BACKWARD = frequency(LABELS, reverse=True)  # items 2 and 3 are worded positively

COPYRIGHT = "© CORE System Trust: https://www.coresystemtrust.org.uk/copyright.pdf"

INSTRUMENT = Instrument(
    key="core10", name="CORE-10", title="CORE-10", version="CORE-10 (Barkham et al. 2013)",
    stem="This form has 10 statements about how you have been OVER THE LAST WEEK. Please read each statement "
         "and think how often you felt that way last week. Then choose the option which is closest to this. "
         "Over the last week...",
    items=tuple(Item(f"q{n}", text, BACKWARD if n in (2, 3) else FORWARD) for n, text in enumerate((
        "I have felt tense, anxious or nervous",
        "I have felt I have someone to turn to for support when needed",
        "I have felt able to cope when things go wrong",
        "Talking to people has felt too much for me",
        "I have felt panic or terror",
        "I made plans to end my life",
        "I have had difficulty getting to sleep or staying asleep",
        "I have felt despairing or hopeless",
        "I have felt unhappy",
        "Unwanted images or memories have been distressing me",
    ), start=1)),
    minimum=0, maximum=40, higher_is_worse=True,
    bands=(Band(0, 5, "Healthy", "ok"), Band(6, 10, "Low level", "ok"), Band(11, 14, "Mild", "warn"),
           Band(15, 19, "Moderate", "warn"), Band(20, 24, "Moderate-to-severe", "danger"),
           Band(25, 40, "Severe", "danger")),
    reliable_change=6,
    reliable_change_source="Barkham et al. 2013, Counselling and Psychotherapy Research 13(1):3–13: reliable "
                           "change index (90% CI) of 6 points; clinical cut-off 11.",
    source="Barkham M, Bewick B, Mullin T, Gilbody S, Connell J, Cahill J, Mellor-Clark J, Richards D, Unsworth G, "
           "Evans C. The CORE-10. Counselling and Psychotherapy Research 2013;13(1):3–13.",
    licence="© CORE System Trust. Licensed under CC BY-NC-ND 4.0: non-commercial use only; the measure may not be "
            "changed in any way; the copyright line must be shown.",
    may_ship=True, copyright_line=COPYRIGHT,
    prompts=(Prompt("q6", 0, "Ask about suicidal thoughts now: they answered above “Not at all” to “I made plans "
                             "to end my life”.", crisis_route="mental_health"),),
)
