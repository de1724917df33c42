"""Reports drafted from the record: the templates, the pre-fill, drafts that save themselves,
sign-off by a supervisor, immutable approved versions (each a new version when changed), and
comparing versions."""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.db import built_once
from app.models import Person, User
from app.models.reports import Report, ReportReview, ReportVersion
from app.report_material import Material, PeriodView, Sentence
from app.services import ValidationError
from app.services.access import NotFound


@dataclass(frozen=True)
class SectionSpec:
    key: str
    heading: str
    topics: tuple[str, ...]
    # Said in the section when the record holds nothing for it (the worker writes it).
    guidance: str = "Write this section."


@dataclass(frozen=True)
class Template:
    key: str
    label: str
    audience_hint: str
    sections: tuple[SectionSpec, ...]


_ENGAGEMENT = SectionSpec("engagement", "Engagement and compliance", ("contacts", "appointments", "compliance"),
                          "Say how the person has engaged and kept to what was agreed.")
_PLAN = SectionSpec("progress", "Progress against the plan", ("plan", "measures"),
                    "Say what progress has been made towards the goals agreed with the person.")
_RISK = SectionSpec("risk", "Risk now and how it changed", ("risk", "flags"))
_RECOMMEND = SectionSpec("recommendation", "Recommendation", (),
                         "Give your recommendation and the reasons for it.")

TEMPLATES: dict[str, Template] = {t.key: t for t in (
    Template("progress", "Progress report", "For example: Crown Court, parole panel, the commissioner",
             (_ENGAGEMENT, _PLAN, _RISK, _RECOMMEND)),
    Template("marac", "MARAC contribution", "For example: MARAC, 14 January",
             (SectionSpec("dash", "The DASH risk checklist", ("dash",),
                          "No DASH is recorded: say whether one was completed elsewhere."),
              SectionSpec("risk", "Risk now", ("risk", "flags")),
              SectionSpec("known", "What the service knows", ("contacts", "contact_extracts", "referrals")),
              SectionSpec("actions", "Actions offered", ("appointments", "plan"),
                          "Say what the service has offered and will offer."))),
    Template("mappa", "MAPPA contribution", "For example: MAPPA level 2 meeting",
             (SectionSpec("risk", "Risk now and how it changed", ("risk", "flags")),
              _ENGAGEMENT,
              SectionSpec("known", "What the service knows", ("contact_extracts", "referrals")),
              SectionSpec("actions", "Actions and risk management proposed", ("plan",),
                          "Say what the service proposes to manage the risk."))),
    Template("strategy", "Strategy meeting contribution", "For example: safeguarding strategy meeting",
             (SectionSpec("known", "What the service knows", ("contacts", "contact_extracts")),
              SectionSpec("risk", "Risk", ("risk", "flags", "dash")),
              SectionSpec("involved", "Services involved", ("referrals",),
                          "Say which services are involved."),
              SectionSpec("actions", "Proposed actions", (), "Say what the service proposes."))),
    Template("case_review", "Case review", "For example: supervision, quarterly review",
             (_ENGAGEMENT, _PLAN, _RISK,
              SectionSpec("referrals", "Referrals and their outcomes", ("referrals",), "No referrals in the period."),
              SectionSpec("next", "Next steps", (), "Say what happens next."))),
    Template("exit", "Exit summary", "For example: the person, their GP, the commissioner",
             (SectionSpec("work", "The work done", ("contacts", "appointments")),
              SectionSpec("outcomes", "Outcomes", ("plan", "measures", "referrals"),
                          "Say what changed for the person."),
              SectionSpec("risk", "Risk at exit", ("risk", "flags")),
              SectionSpec("onward", "Onward plan", (), "Say who will support the person from here."))),
)}

STATUS_LABELS = {"draft": "Draft", "awaiting_sign_off": "Waiting for sign-off", "returned": "Returned for changes",
                 "approved": "Approved"}
STATUS_TONES = {"draft": "warn", "awaiting_sign_off": "warn", "returned": "danger", "approved": "ok"}
REVIEW_LABELS = {"asked": "Asked for sign-off", "approved": "Approved", "returned": "Returned",
                 "revised": "New version started"}
EDITABLE = ("draft", "returned")
MAX_SECTION_CHARS = 20000


def reference(report: Report) -> str:
    """What a report is called outside Fieldline (documents, file names): never a name."""
    return f"FL-R{report.id}"


def file_name(report: Report, version: int) -> str:
    return f"report-{reference(report)}-v{version}.pdf"


@dataclass
class Request:
    template: str
    audience: str
    period_start: date | None
    period_end: date | None


def check_request(request: Request, today: date) -> dict[str, str]:
    errors = {}
    if request.template not in TEMPLATES:
        errors["template"] = "Choose which report to write."
    if not request.audience.strip():
        errors["audience"] = "Say who the report is for."
    if request.period_start is None:
        errors["period_start"] = "Enter the first day of the period."
    if request.period_end is None:
        errors["period_end"] = "Enter the last day of the period."
    elif request.period_start and request.period_end < request.period_start:
        errors["period_end"] = "The period must end on or after the day it starts."
    elif request.period_start and request.period_start > today:
        errors["period_start"] = "The period cannot start in the future."
    elif request.period_end > today:  # the report says what is on the record, so far
        errors["period_end"] = "The period cannot end after today."
    return errors


def prefill(material: Material, view: PeriodView, template: Template) -> list[dict]:
    """Every section of the template, pre-filled from the record for the period; each sentence's
    source kept with it. Refused when nothing at all happened in the period."""
    sections, anything = [], False
    for spec in template.sections:
        said = material.sentences(view, spec.topics)
        anything = anything or any(s.in_period for s in said)
        sections.append({"key": spec.key, "heading": spec.heading, "text": "\n".join(s.text for s in said),
                         "sources": [s.as_source() for s in said if s.href],
                         "charts": [{"label": s.label, "svg": s.chart} for s in said if s.chart],
                         "guidance": spec.guidance if not said else ""})
    if not anything:
        raise ValidationError({"period_end": f"Nothing is recorded for this person between "
                                             f"{view.start:%-d %B %Y} and {view.end:%-d %B %Y}: choose another "
                                             "period."})
    return sections


def create(session: Session, author: User, person: Person, request: Request, sections: list[dict], *,
           now: datetime) -> Report:
    report = Report(team_id=person.team_id, person_id=person.id, author_id=author.id, template=request.template,
                    audience=request.audience.strip()[:200], period_start=request.period_start,
                    period_end=request.period_end, sections=sections, created_at=now, updated_at=now,
                    draft_saved_at=now)
    session.add(report)
    session.flush()
    return report


def get_report(session: Session, viewer: User, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None or viewer.team_id is None or report.team_id != viewer.team_id:
        raise NotFound
    return report


def for_person(session: Session, person: Person) -> list[Report]:
    return list(session.exec(_reports_of(), params={"person_id": person.id, "team_id": person.team_id}).all())


@built_once
def _reports_of():
    return (select(Report).where(Report.person_id == bindparam("person_id"), Report.team_id == bindparam("team_id"))
            .order_by(Report.created_at.desc()))


def awaiting(session: Session, team_id: int) -> list[Report]:
    return list(session.exec(select(Report).where(Report.team_id == team_id, Report.status == "awaiting_sign_off")
                             .order_by(Report.updated_at)).all())


def save_draft(session: Session, report: Report, by: User, texts: dict[str, str], *, client_ms: int | None,
               now: datetime) -> bool:
    """Keep what the worker typed. A save older than the one kept (sent late from the phone's
    outbox) changes nothing; answers False then."""
    _check_can_edit(report, by)
    too_long = [s["heading"] for s in report.sections if len(texts.get(s["key"], "")) > MAX_SECTION_CHARS]
    if too_long:
        raise ValidationError({"": f"{too_long[0]} is longer than {MAX_SECTION_CHARS} characters: shorten it."})
    if client_ms is not None and report.client_saved_ms is not None and client_ms < report.client_saved_ms:
        return False
    report.sections = [{**s, "text": texts.get(s["key"], s["text"]).replace("\r\n", "\n")} for s in report.sections]
    report.client_saved_ms = client_ms if client_ms is not None else report.client_saved_ms
    report.draft_saved_at = report.updated_at = now
    session.add(report)
    return True


def _check_can_edit(report: Report, by: User) -> None:
    if report.status not in EDITABLE:
        raise ValidationError({"": f"This report is {STATUS_LABELS[report.status].lower()}: it cannot be changed. "
                                   + ("Start a new version to change it." if report.status == "approved" else
                                      "Wait for the supervisor's answer.")})
    if by.id != report.author_id:
        raise ValidationError({"": "Only the report's author can change the draft."})


def quoted_keys(report: Report, section_key: str, offered: list[Sentence]) -> set[str]:
    """Which of the offered extracts the section quotes now (by their source links)."""
    section = section_of(report, section_key)
    hrefs = {s.get("href") for s in section["sources"]}
    return {s.key for s in offered if s.href in hrefs}


def section_of(report: Report, section_key: str) -> dict:
    found = next((s for s in report.sections if s["key"] == section_key), None)
    if found is None:
        raise NotFound
    return found


def choose_extracts(session: Session, report: Report, by: User, section_key: str, offered: list[Sentence],
                    chosen: set[str], *, now: datetime) -> int:
    """Quote the chosen extracts (with their dates and source links) at the end of the section, in
    place of those it quoted before; a quoted line the worker has since edited stays as written.
    Later saves from the phone made before this choice change nothing (as with any older save)."""
    _check_can_edit(report, by)
    section = section_of(report, section_key)
    if chosen - {s.key for s in offered}:
        raise ValidationError({"extracts": "Choose from the contacts listed."})
    hrefs = {s.href for s in offered}
    lines = section["text"].split("\n")
    for source in section["sources"]:
        if source.get("href") in hrefs and source["text"] in lines:
            lines.remove(source["text"])
    while lines and not lines[-1].strip():
        lines.pop()
    picked = [s for s in offered if s.key in chosen]
    text = "\n".join([*lines, *(s.text for s in picked)])
    if len(text) > MAX_SECTION_CHARS:
        raise ValidationError({"extracts": f"{section['heading']} would be longer than {MAX_SECTION_CHARS} "
                                           "characters: choose fewer."})
    sources = [s for s in section["sources"] if s.get("href") not in hrefs] + [s.as_source() for s in picked]
    report.sections = [{**s, "text": text, "sources": sources} if s["key"] == section_key else s
                       for s in report.sections]
    report.client_saved_ms = max(report.client_saved_ms or 0, int(now.timestamp() * 1000))
    report.draft_saved_at = report.updated_at = now
    session.add(report)
    return len(picked)


def _review(session: Session, report: Report, by: User, decision: str, comments: str | None, now: datetime) -> None:
    session.add(ReportReview(report_id=report.id, version=report.version, at=now, by_id=by.id, decision=decision,
                             comments=comments))


def ask_sign_off(session: Session, report: Report, by: User, *, now: datetime) -> None:
    if report.status not in EDITABLE:
        raise ValidationError({"": f"This report is {STATUS_LABELS[report.status].lower()}."})
    if by.id != report.author_id:
        raise ValidationError({"": "Only the report's author can ask for sign-off."})
    if not any(s["text"].strip() for s in report.sections):
        raise ValidationError({"": "Every section is empty: write the report before asking for sign-off."})
    report.status, report.updated_at = "awaiting_sign_off", now
    session.add(report)
    _review(session, report, by, "asked", None, now)


def check_reviewer(report: Report, supervisor: User) -> None:
    if report.status != "awaiting_sign_off":
        raise ValidationError({"": "This report is not waiting for sign-off."})
    if supervisor.id == report.author_id:
        raise ValidationError({"": "You wrote this report: another supervisor must sign it off."})
    if supervisor.role != "supervisor" or supervisor.team_id != report.team_id:
        raise ValidationError({"": "Only a supervisor of the team can sign off a report."})


def approve(session: Session, report: Report, supervisor: User, pdf: bytes, *, now: datetime) -> ReportVersion:
    """Freeze the draft as an approved version, with the PDF as produced now (hashed)."""
    check_reviewer(report, supervisor)
    version = ReportVersion(report_id=report.id, version=report.version, template=report.template,
                            audience=report.audience, period_start=report.period_start,
                            period_end=report.period_end,
                            sections=[{k: s[k] for k in ("key", "heading", "text", "sources", "charts") if k in s}
                                      for s in report.sections],
                            author_id=report.author_id, approved_by_id=supervisor.id, approved_at=now, pdf=pdf,
                            pdf_sha256=hashlib.sha256(pdf).hexdigest())
    session.add(version)
    report.status, report.updated_at = "approved", now
    session.add(report)
    _review(session, report, supervisor, "approved", None, now)
    session.flush()
    return version


def send_back(session: Session, report: Report, supervisor: User, comments: str, *, now: datetime) -> None:
    check_reviewer(report, supervisor)
    if not comments.strip():
        raise ValidationError({"comments": "Say what needs changing."})
    report.status, report.updated_at = "returned", now
    session.add(report)
    _review(session, report, supervisor, "returned", comments.strip()[:5000], now)


def revise(session: Session, report: Report, by: User, *, now: datetime) -> None:
    """Change an approved report: a new draft version, starting from the approved text (the
    approved version itself is never touched)."""
    if report.status != "approved":
        raise ValidationError({"": "Only an approved report gets a new version; change the draft instead."})
    if by.id != report.author_id:
        raise ValidationError({"": "Only the report's author can start a new version."})
    report.version += 1
    report.status, report.updated_at, report.client_saved_ms = "draft", now, None
    session.add(report)
    _review(session, report, by, "revised", None, now)


def versions(session: Session, report: Report) -> list[ReportVersion]:
    return list(session.exec(select(ReportVersion).where(ReportVersion.report_id == report.id)
                             .order_by(ReportVersion.version)).all())


def version(session: Session, report: Report, number: int) -> ReportVersion:
    found = session.exec(select(ReportVersion).where(ReportVersion.report_id == report.id,
                                                     ReportVersion.version == number)).first()
    if found is None:
        raise NotFound
    return found


def reviews(session: Session, report: Report) -> list[ReportReview]:
    return list(session.exec(select(ReportReview).where(ReportReview.report_id == report.id)
                             .order_by(ReportReview.at, ReportReview.id)).all())


@dataclass
class LineChange:
    kind: str  # "same", "added", "removed"
    text: str


@dataclass
class SectionChange:
    heading: str
    lines: list[LineChange]
    changed: bool


def compare(older: list[dict], newer: list[dict]) -> list[SectionChange]:
    """Section by section, line by line: what was removed and added between two versions."""
    before = {s["key"]: s for s in older}
    out = []
    for section in newer:
        old_lines = before.get(section["key"], {}).get("text", "").splitlines()
        lines = []
        for line in difflib.ndiff(old_lines, section["text"].splitlines()):
            code, text = line[:2], line[2:]
            if code == "? ":
                continue
            lines.append(LineChange({"  ": "same", "+ ": "added", "- ": "removed"}[code], text))
        out.append(SectionChange(section["heading"], lines, any(line.kind != "same" for line in lines)))
    return out
