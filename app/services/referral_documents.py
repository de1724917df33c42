"""A referral as the receiving service reads it: plain text (email body, print view) and a PDF."""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from app.charts import HEIGHT as SVG_HEIGHT, WIDTH as SVG_WIDTH
from app.models import Person, Team, User
from app.models.referrals import PartnerService, Referral
from app.services.referrals import BASES, DASH_QUESTIONS, MARAC_THRESHOLD, ROUTE_TEMPLATES

# fpdf2 subsets the font with fontTools, which logs ~40 INFO lines per document: not news.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# A Unicode font when the system has one (names are not all Latin-1); otherwise the PDF core font.
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_LATIN1 = str.maketrans({"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."})


@dataclass
class Section:
    heading: str
    lines: list[tuple[str, str]]
    charts: list[str] = field(default_factory=list)  # SVGs from app/charts.py, drawn after the lines


def sections(referral: Referral, person: Person, author: User, team: Team, partner: PartnerService | None,
             zone: ZoneInfo) -> list[Section]:
    template = ROUTE_TEMPLATES[referral.route]
    made = (referral.sent_at or referral.created_at).astimezone(zone)
    parts = [
        Section("Referral", [("To", partner.name if partner else template.label), ("Route", template.label),
                             ("Date", f"{made:%-d %B %Y, %H:%M}"),
                             ("From", f"{author.name}, {team.name}" + (f", {author.phone}" if author.phone else "")),
                             ("Team phone", team.duty_phone or "not recorded")]),
        Section("Lawful basis for sharing", [("Basis", BASES[referral.lawful_basis])]
                + ([("Why", referral.basis_reason)] if referral.basis_reason else [])),
        Section("About the person", [("", referral.summary or f"Name: {person.name}")]),
        Section("The referral", [(q.label, referral.answers.get(q.name) or "not given") for q in template.questions]),
    ]
    if referral.route == "domestic_abuse":
        labels = {"yes": "Yes", "no": "No", "not_known": "Not known"}
        parts.append(Section(
            f"DASH risk checklist: {referral.dash_score} of 24 answered yes"
            + (" - MARAC referral" if referral.marac else ""),
            [(f"{n}. {q}", labels.get(a, a)) for n, (q, a) in enumerate(zip(DASH_QUESTIONS, referral.dash), 1)]
            + [("MARAC", f"Referral to MARAC: score {referral.dash_score} (threshold {MARAC_THRESHOLD}) or "
                         "professional judgement" if referral.marac else "Not referred to MARAC")]))
    return parts


def as_text(parts: list[Section]) -> str:
    out = []
    for part in parts:
        out.append(part.heading.upper())
        out += [f"{label}: {value}" if label else value for label, value in part.lines]
        out.append("")
    return "\n".join(out)


class _Document(FPDF):
    """Every page says which referral it is and where it stands, and that it is confidential."""

    marking = ""
    font_name = "Helvetica"

    def header(self):
        self.set_font(self.font_name, size=8)
        self.cell(0, 5, self.marking, new_x="LMARGIN", new_y="NEXT", align="R")
        self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_font(self.font_name, size=8)
        self.cell(0, 5, f"Confidential · page {self.page_no()} of {{nb}}", align="C")


REFERRAL_CLOSING = ("Confidential: special-category personal data shared under the lawful basis above. "
                    "Sent from Fieldline.")


CHART_WIDTH_MM = 140
_SVG_TITLES = re.compile(r"<title[^>]*>.*?</title>", re.DOTALL)  # hover text on the page; the PDF has no use for it


def _draw_chart(pdf: FPDF, svg: str) -> None:
    """A chart as vector graphics (fpdf2 reads the SVG), on a new page if it would not fit."""
    height = CHART_WIDTH_MM * SVG_HEIGHT / SVG_WIDTH
    if pdf.get_y() + height + 2 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(1)
    pdf.image(io.BytesIO(_SVG_TITLES.sub("", svg).encode()), x=pdf.l_margin, w=CHART_WIDTH_MM, h=height)
    pdf.ln(2)


def as_pdf(parts: list[Section], title: str, *, reference: str, status: str, closing: str = REFERRAL_CLOSING) -> bytes:
    pdf = _Document(format="A4")
    pdf.set_title(title)
    pdf.set_author("Fieldline")
    pdf.set_auto_page_break(auto=True, margin=15)
    if UNICODE_FONT.exists():
        pdf.add_font("Body", fname=str(UNICODE_FONT))
        font, clean = "Body", (lambda text: text)
    else:
        font = "Helvetica"

        def clean(text: str) -> str:
            return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")
    pdf.font_name, pdf.marking = font, clean(f"Reference {reference} · Status: {status}")
    pdf.add_page()

    pdf.set_font(font, size=16)
    pdf.multi_cell(0, 9, clean(title), new_x="LMARGIN", new_y="NEXT")
    for part in parts:
        pdf.ln(3)
        pdf.set_font(font, size=12)
        pdf.multi_cell(0, 7, clean(part.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(font, size=10)
        for label, value in part.lines:
            pdf.multi_cell(0, 5.5, clean(f"{label}: {value}" if label else value), new_x="LMARGIN", new_y="NEXT")
        for svg in part.charts:
            _draw_chart(pdf, svg)
    pdf.ln(4)
    pdf.set_font(font, size=8)
    pdf.multi_cell(0, 4, clean(closing), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
