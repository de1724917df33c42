"""PHQ-9, the Patient Health Questionnaire depression scale (nine items, 0–27).

Source: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity
measure. J Gen Intern Med 2001;16(9):606–613 (items, scoring and the 5/10/15/20 severity bands).
Reliable change: NHS Talking Therapies for anxiety and depression counts a fall of 6 or more points
on the PHQ-9 as reliable improvement (and a rise of 6 or more as reliable deterioration) — NHS
Talking Therapies Manual (formerly the IAPT Manual), NHS England.
Licence: developed by Drs Spitzer, Williams, Kroenke and colleagues with an educational grant from
Pfizer Inc.; no permission is required to reproduce, translate, display or distribute it.
"""
from app.instruments import Band, Instrument, Item, Prompt, frequency

ANSWERS = frequency(("Not at all", "Several days", "More than half the days", "Nearly every day"))
DIFFICULTY = frequency(("Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult"))

ITEMS = tuple(Item(f"q{n}", text, ANSWERS) for n, text in enumerate((
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or "
    "restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
), start=1)) + (Item("q10", "If you checked off any problems, how difficult have these problems made it for you to do "
                          "your work, take care of things at home, or get along with other people?", DIFFICULTY,
                  scored=False),)

INSTRUMENT = Instrument(
    key="phq9", name="PHQ-9", title="Patient Health Questionnaire (PHQ-9)", version="PHQ-9 (Kroenke et al. 2001)",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    items=ITEMS, minimum=0, maximum=27, higher_is_worse=True,
    bands=(Band(0, 4, "Minimal", "ok"), Band(5, 9, "Mild", "ok"), Band(10, 14, "Moderate", "warn"),
           Band(15, 19, "Moderately severe", "danger"), Band(20, 27, "Severe", "danger")),
    reliable_change=6,
    reliable_change_source="NHS Talking Therapies for anxiety and depression Manual (NHS England): a change of "
                           "6 or more points on the PHQ-9 is reliable.",
    source="Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity measure. "
           "J Gen Intern Med 2001;16(9):606–613.",
    licence="Developed by Drs Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
            "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
            "distribute.",
    may_ship=True,
    prompts=(Prompt("q9", 0, "Ask about suicidal thoughts now: they answered above “Not at all” to thoughts that "
                             "they would be better off dead or of hurting themselves.", crisis_route="mental_health"),),
)
