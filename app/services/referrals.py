"""Crisis referrals: the route templates, the lawful basis for sharing, DASH and MARAC, the status
flow, sending (secure email with a PDF, through the notification outbox), and follow-ups."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.db import built_once
from app.models import Contact, Person, User
from app.models.referrals import STATUSES, PartnerService, Referral, ReferralEvent
from app.services import ValidationError
from app.services.access import NotFound
from app.services.periodic import Periodic


@dataclass(frozen=True)
class Question:
    name: str
    label: str
    required: bool = True
    long: bool = True


@dataclass(frozen=True)
class Route:
    label: str
    guidance: str
    questions: tuple[Question, ...]
    # How long to wait for the service to answer before reminding the worker.
    follow_up_after: timedelta = timedelta(days=2)


ROUTE_TEMPLATES = {
    "mental_health": Route(
        "Mental-health crisis team",
        "For someone in mental-health crisis now. If life is at immediate risk, call 999 first.",
        (Question("concern", "What is happening now"), Question("risk_to_self", "Risk to themself (thoughts, plans, "
                  "means)"), Question("known_services", "Known services, diagnosis or medication", required=False))),
    "safeguarding_adults": Route(
        "Safeguarding adults",
        "An adult with care and support needs who is experiencing, or at risk of, abuse or neglect.",
        (Question("abuse", "The abuse or neglect, and who is causing it"),
         Question("care_needs", "Their care and support needs"),
         Question("wishes", "What they want to happen (making safeguarding personal)"))),
    "safeguarding_children": Route(
        "Safeguarding children (front door / MASH)",
        "Any concern that a child is being harmed or is at risk. If a child is in immediate danger, call 999.",
        (Question("children", "The children (first names or initials, ages)", long=False),
         Question("concern", "What you saw or were told, and when"),
         Question("immediate_danger", "Is any child in immediate danger? Where are they now?"))),
    "police": Route(
        "Police",
        "Emergency (a crime happening now, or life at risk): call 999 now, then record it here. "
        "Otherwise report to 101 and record the reference.",
        (Question("what_happened", "What happened"), Question("when_where", "When and where", long=False),
         Question("reference", "Police reference (from 999 or 101)", required=False, long=False))),
    "substance_use": Route(
        "Substance-use service",
        "Drug or alcohol treatment, harm reduction, or a crisis linked to substance use.",
        (Question("substances", "Substances and how they are used"),
         Question("history", "Treatment so far", required=False), Question("goals", "What they want from the service"))),
    "housing": Route(
        "Housing — homelessness duty to refer",
        "The duty to refer someone homeless or threatened with homelessness within 56 days to a housing authority.",
        (Question("situation", "Their housing situation now"),
         Question("within_56_days", "When they lose or lost their accommodation", long=False),
         Question("local_connection", "Local connection to the area", required=False, long=False)),
        follow_up_after=timedelta(days=5)),
    "domestic_abuse": Route(
        "Domestic abuse (with DASH risk checklist)",
        "Complete the DASH checklist with the person. A score of 14 or more 'yes' answers, or your professional "
        "judgement, means a referral to MARAC.",
        (Question("abuser", "The person causing harm (relationship, name if known)", long=False),
         Question("incident", "The latest incident"),
         Question("safety_plan", "Safety planning done today", required=False))),
}

# The SafeLives DASH risk identification checklist: 24 questions asked of the victim.
DASH_QUESTIONS = (
    "Has the current incident resulted in injury?",
    "Are you very frightened?",
    "What are you afraid of? Is it further injury or violence?",
    "Do you feel isolated from family or friends (does the abuser try to stop you seeing them)?",
    "Are you feeling depressed or having suicidal thoughts?",
    "Have you separated or tried to separate from the abuser within the past year?",
    "Is there conflict over child contact?",
    "Does the abuser constantly text, call, contact, follow, stalk or harass you?",
    "Are you pregnant or have you recently had a baby (in the last 18 months)?",
    "Is the abuse happening more often?",
    "Is the abuse getting worse?",
    "Does the abuser try to control everything you do and/or are they excessively jealous?",
    "Has the abuser ever used weapons or objects to hurt you?",
    "Has the abuser ever threatened to kill you or someone else and you believed them?",
    "Has the abuser ever attempted to strangle, choke, suffocate or drown you?",
    "Does the abuser do or say things of a sexual nature that make you feel bad or that physically hurt you or "
    "someone else?",
    "Is there any other person who has threatened you or who you are afraid of?",
    "Do you know if the abuser has hurt anyone else?",
    "Has the abuser ever mistreated an animal or the family pet?",
    "Are there any financial issues (are you dependent on the abuser for money, have they lost their job)?",
    "Has the abuser had problems in the past year with drugs, alcohol or mental health leading to problems in "
    "leading a normal life?",
    "Has the abuser ever threatened or attempted suicide?",
    "Has the abuser ever broken bail, an injunction or a formal agreement about seeing you or the children?",
    "Do you know if the abuser has ever been in trouble with the police or has a criminal history?",
)
DASH_ANSWERS = ("yes", "no", "not_known")
MARAC_THRESHOLD = 14

BASES = {
    "consent": "The person consents to this referral",
    "safeguarding": "Without consent: to protect a child or an adult at risk (safeguarding)",
    "risk_to_life": "Without consent: there is a risk to life or of serious harm",
    "crime": "Without consent: to prevent or detect a serious crime",
}
STATUS_LABELS = {"draft": "Draft", "awaiting_approval": "Awaiting a supervisor's approval", "sent": "Sent",
                 "acknowledged": "Acknowledged by the service", "accepted": "Accepted", "declined": "Declined",
                 "closed": "Closed"}
# Who may move a referral where (besides sending, which has its own rules).
NEXT_STATUSES = {"sent": ("acknowledged", "accepted", "declined", "closed"),
                 "acknowledged": ("accepted", "declined", "closed"), "accepted": ("closed",),
                 "declined": ("closed",), "draft": ("closed",), "awaiting_approval": ("closed",)}
UNSENT = ("draft", "awaiting_approval")


def reference(referral: Referral) -> str:
    """What a referral is called outside Fieldline (emails, documents, file names): never a name."""
    return f"FL-{referral.id}"


def file_name(referral: Referral) -> str:
    return f"referral-{reference(referral)}.pdf"


def next_step_label(current: str, status: str) -> str:
    """How a next step reads in the status list: closing an unsent referral is withdrawing it."""
    if status == "closed" and current in UNSENT:
        return "Withdraw it: it will not be sent"
    return STATUS_LABELS[status]


@dataclass
class Draft:
    route: str
    partner_id: int | None
    answers: dict[str, str]
    summary: str
    lawful_basis: str
    basis_reason: str | None
    ask_approval: bool = False
    dash: list[str] = field(default_factory=list)
    marac_judgement: bool = False


def dash_score(answers: list[str]) -> int:
    return sum(1 for answer in answers if answer == "yes")


def needs_marac(answers: list[str], judgement: bool) -> bool:
    return dash_score(answers) >= MARAC_THRESHOLD or judgement


def is_open(partner: PartnerService, now: datetime, zone: ZoneInfo) -> bool:
    local = now.astimezone(zone)
    if str(local.isoweekday()) not in partner.open_days:
        return False
    if partner.opens_at is None or partner.closes_at is None:
        return True
    return partner.opens_at <= local.time() < partner.closes_at


def partners_for(session: Session, route: str) -> list[PartnerService]:
    return list(session.exec(select(PartnerService).where(PartnerService.route == route, PartnerService.active)
                             .order_by(PartnerService.name)).all())


def prefill(session: Session, person: Person, zone: ZoneInfo) -> str:
    """The summary a referral starts from: the person's record and their latest contact."""
    lines = [f"Name: {person.name}" + (f" (known as {person.known_as})" if person.known_as else "")]
    if person.date_of_birth:
        lines.append(f"Date of birth: {person.date_of_birth:%-d %B %Y}")
    if person.pronouns:
        lines.append(f"Pronouns: {person.pronouns}")
    if person.address:
        lines.append(f"Address or usual area: {person.address}")
    if person.phone:
        lines.append(f"Phone: {person.phone}")
    latest = session.exec(select(Contact).where(Contact.person_id == person.id, Contact.deleted_at.is_(None))
                          .order_by(Contact.happened_at.desc())).first()
    if latest is not None:
        lines.append(f"Latest contact ({latest.happened_at.astimezone(zone):%-d %b %Y}): {latest.notes}")
    return "\n".join(lines)


def _check(session: Session, person: Person, draft: Draft) -> dict[str, str]:
    errors = {}
    template = ROUTE_TEMPLATES.get(draft.route)
    if template is None:
        return {"route": "Choose where to refer to."}
    for question in template.questions:
        value = (draft.answers.get(question.name) or "").strip()
        if question.required and not value:
            errors[question.name] = f"Answer this: {question.label.lower()}."
        elif len(value) > 5000:
            errors[question.name] = "Keep this under 5,000 characters."
    if draft.partner_id is not None:
        partner = session.get(PartnerService, draft.partner_id)
        if partner is None or partner.route != draft.route or not partner.active:
            errors["partner_id"] = "Choose a service from the list."
    if draft.lawful_basis not in BASES:
        errors["lawful_basis"] = "Say on what basis you are sharing this."
    elif draft.lawful_basis == "consent" and person.consent_to_share != "yes":
        errors["lawful_basis"] = ("Their record does not show consent to share. Record their consent first, or "
                                  "choose a reason to share without it.")
    elif draft.lawful_basis != "consent" and not (draft.basis_reason or "").strip():
        errors["basis_reason"] = "Sharing without consent needs a reason: say why it is necessary."
    if draft.route == "domestic_abuse":
        if len(draft.dash) != len(DASH_QUESTIONS) or any(a not in DASH_ANSWERS for a in draft.dash):
            errors["dash"] = "Answer all 24 DASH questions (yes, no or not known)."
    return errors


def create(session: Session, author: User, person: Person, draft: Draft, *, now: datetime) -> Referral:
    """A new referral: a draft, or straight to a supervisor for approval when asked."""
    errors = _check(session, person, draft)
    if errors:
        raise ValidationError(errors)
    referral = Referral(team_id=person.team_id, person_id=person.id, author_id=author.id, route=draft.route,
                        partner_id=draft.partner_id, answers={k: v.strip() for k, v in draft.answers.items()},
                        summary=draft.summary.strip(), lawful_basis=draft.lawful_basis,
                        basis_reason=(draft.basis_reason or "").strip() or None, created_at=now, updated_at=now)
    if draft.route == "domestic_abuse":
        referral.dash, referral.dash_score = list(draft.dash), dash_score(draft.dash)
        referral.marac = needs_marac(draft.dash, draft.marac_judgement)
    session.add(referral)
    session.flush()
    _event(session, referral, "draft", author, now, note=None)
    if draft.ask_approval:
        _move(session, referral, "awaiting_approval", author, now)
    return referral


def _event(session: Session, referral: Referral, status: str, by: User | None, now: datetime,
           note: str | None) -> None:
    session.add(ReferralEvent(referral_id=referral.id, at=now, by_id=by.id if by else None, status=status,
                              note=note))


def _move(session: Session, referral: Referral, status: str, by: User | None, now: datetime,
          note: str | None = None) -> None:
    referral.status, referral.updated_at = status, now
    _event(session, referral, status, by, now, note)


def get_referral(session: Session, viewer: User, referral_id: int) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None or viewer.team_id is None or referral.team_id != viewer.team_id:
        raise NotFound
    return referral


def approve(session: Session, referral: Referral, supervisor: User, *, now: datetime) -> None:
    if supervisor.role != "supervisor" or supervisor.team_id != referral.team_id:
        raise NotFound
    if referral.status != "awaiting_approval":
        raise ValidationError({"": "Only a referral awaiting approval can be approved."})
    referral.approved_by_id, referral.approved_at = supervisor.id, now
    _event(session, referral, "awaiting_approval", supervisor, now, note="Approved")


def can_send(referral: Referral) -> str | None:
    """Why it cannot be sent yet, or None."""
    if referral.status not in ("draft", "awaiting_approval"):
        return "It has been sent already."
    if referral.status == "awaiting_approval" and referral.approved_by_id is None:
        return "A supervisor has to approve it first."
    return None


def mark_sent(session: Session, referral: Referral, by: User, *, now: datetime) -> None:
    reason = can_send(referral)
    if reason:
        raise ValidationError({"": reason})
    referral.sent_at = now
    referral.follow_up_at = now + ROUTE_TEMPLATES[referral.route].follow_up_after
    _move(session, referral, "sent", by, now)


def change_status(session: Session, referral: Referral, status: str, by: User, *, note: str | None,
                  now: datetime) -> None:
    if status not in STATUSES or status not in NEXT_STATUSES.get(referral.status, ()):
        raise ValidationError({"status": f"A referral that is {STATUS_LABELS[referral.status].lower()} cannot "
                                         f"become {STATUS_LABELS.get(status, status).lower()}."})
    _move(session, referral, status, by, now, note=(note or "").strip() or None)
    if status != "sent":
        referral.follow_up_at = None  # the service answered (or it is closed): no chasing


def events(session: Session, referral: Referral) -> list[ReferralEvent]:
    return list(session.exec(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                             .order_by(ReferralEvent.at, ReferralEvent.id)).all())


def for_person(session: Session, person: Person, *, before: datetime | None = None,
               limit: int | None = None) -> list[Referral]:
    """Newest first; `before` and `limit` give a page of the timeline."""
    return list(session.exec(_referrals_page(limit is not None, before is not None), params={
        "person_id": person.id, "team_id": person.team_id, "limit": limit, "before": before}).all())


@built_once
def _referrals_page(limited: bool, paged: bool):
    query = (select(Referral).where(Referral.person_id == bindparam("person_id"), Referral.team_id == bindparam("team_id"))
             .order_by(Referral.created_at.desc(), Referral.id.desc()))
    if limited:
        query = query.limit(bindparam("limit"))
    return query.where(Referral.created_at <= bindparam("before")) if paged else query


def due_follow_ups(session: Session, now: datetime) -> list[Referral]:
    return list(session.exec(select(Referral).where(Referral.status == "sent", Referral.follow_up_at <= now)
                             .limit(200)).all())


class FollowUpJob(Periodic):
    """Worker job: remind a referral's author when the service has not answered in the route's
    expected time (and again each period after, until its status moves on)."""

    def __init__(self, every: timedelta = timedelta(seconds=60)):
        super().__init__(every)

    def __call__(self, engine, now: datetime) -> None:
        if not self.due(now):
            return
        from app.db import unit_of_work
        from app.services import delivery, leave
        from app.services.delivery import Message

        with unit_of_work(engine) as session:
            for referral in due_follow_ups(session, now):
                author = session.get(User, leave.standing_in(session, referral.author_id, now))
                delivery.enqueue(session, Message(
                    kind="referral", event_ref=f"referral:{referral.id}:follow-up:{referral.follow_up_at.isoformat()}",
                    title="No answer yet on a referral", body="Open Fieldline to chase it or update its status.",
                    url=f"/referrals/{referral.id}"), author, now=now)
                _event(session, referral, referral.status, None, now, note="Follow-up reminder sent")
                referral.follow_up_at = now + ROUTE_TEMPLATES[referral.route].follow_up_after
