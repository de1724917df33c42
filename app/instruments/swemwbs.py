"""SWEMWBS, the Short Warwick-Edinburgh Mental Wellbeing Scale (seven items, metric score 7–35;
higher is better).

Source: Stewart-Brown S, Tennant A, Tennant R, Platt S, Parkinson J, Weich S. Internal construct
validity of the Warwick-Edinburgh Mental Well-being Scale (WEMWBS): a Rasch analysis using data
from the Scottish Health Education Population Survey. Health Qual Life Outcomes 2009;7:15. The raw
total (7–35) is reported as its metric score through the published SWEMWBS raw-to-metric
conversion table (University of Warwick).
Reliable change: Shah N, Cader M, Andrews WP, Wijesekera D, Stewart-Brown SL. Responsiveness of the
Short Warwick Edinburgh Mental Well-Being Scale (SWEMWBS): evaluation in a clinical sample. Health
Qual Life Outcomes 2018;16:239 — 2.77 standard errors of measurement, 2.87 metric points. No
clinical bands are published, so none are drawn.
Licence: © NHS Health Scotland, University of Warwick and University of Edinburgh. Use needs a
licence from the University of Warwick; it may not be offered until an admin records that the
organisation holds one (`needs_licence`), and it is not ours to ship to anyone else.
"""
from app.instruments import Instrument, Item, frequency

ANSWERS = frequency(("None of the time", "Rarely", "Some of the time", "Often", "All of the time"), start=1)

# The published raw total → metric score table.
METRIC = {7: 7.00, 8: 9.51, 9: 11.25, 10: 12.40, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32, 15: 15.84,
          16: 16.36, 17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25, 22: 19.98, 23: 20.73, 24: 21.54,
          25: 22.35, 26: 23.21, 27: 24.11, 28: 25.03, 29: 26.02, 30: 27.03, 31: 28.13, 32: 29.31, 33: 30.70,
          34: 32.55, 35: 35.00}

INSTRUMENT = Instrument(
    key="swemwbs", name="SWEMWBS", title="Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS)",
    version="SWEMWBS (Stewart-Brown et al. 2009), metric scores",
    stem="Below are some statements about feelings and thoughts. Please choose the answer that best describes "
         "your experience of each over the last 2 weeks.",
    items=tuple(Item(f"q{n}", text, ANSWERS) for n, text in enumerate((
        "I’ve been feeling optimistic about the future",
        "I’ve been feeling useful",
        "I’ve been feeling relaxed",
        "I’ve been dealing with problems well",
        "I’ve been thinking clearly",
        "I’ve been feeling close to other people",
        "I’ve been able to make up my own mind about things",
    ), start=1)),
    minimum=7, maximum=35, higher_is_worse=False, bands=(),
    reliable_change=2.87,
    reliable_change_source="Shah et al. 2018, Health Qual Life Outcomes 16:239: 2.77 SEM = 2.87 metric points.",
    source="Stewart-Brown S, et al. Health Qual Life Outcomes 2009;7:15; raw-to-metric conversion table, "
           "University of Warwick.",
    licence="© NHS Health Scotland, University of Warwick and University of Edinburgh. Licensed by the University "
            "of Warwick: usable only by organisations that hold a WEMWBS licence.",
    may_ship=False, needs_licence="wemwbs",
    copyright_line="SWEMWBS © NHS Health Scotland, University of Warwick and University of Edinburgh, 2008, "
                   "all rights reserved.",
    convert=METRIC.__getitem__,
)
