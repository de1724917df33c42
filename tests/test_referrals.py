"""Crisis referrals over real HTTP: every route's template, the consent rule, DASH and MARAC,
approval, sending by email with a PDF to a real SMTP server, the status flow, follow-ups, access."""
import logging
import re
from datetime import timedelta
from io import BytesIO

import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, Delivery, Referral, ReferralEvent
from app.models.referrals import ROUTES, PartnerService
from app.models.types import utcnow
from app.services import referrals
from tests.helpers import local_time
from tests.peers import smtp_server
from tests.test_caseload import add_person
from tests.test_notifications import make_job, settings  # noqa: F401 (fixture)

ANSWERS = {"concern": "Says they will end their life tonight.", "risk_to_self": "Has pills saved up.",
           "abuse": "Son takes their money.", "care_needs": "Dementia, lives alone.", "wishes": "Wants help.",
           "children": "Two, aged 3 and 6", "immediate_danger": "Not now: at school.",
           "what_happened": "Assaulted in the hostel.", "when_where": "Last night, Hope House",
           "substances": "Heroin, injecting.", "goals": "Wants a script.", "situation": "Sofa surfing.",
           "within_56_days": "Already homeless", "abuser": "Ex-partner", "incident": "Punched last week."}


def refer(client, person_id, route, dash=None, **data):
    form = {"lawful_basis": "consent", "summary": "Name: Dana", **{f"q_{k}": v for k, v in ANSWERS.items()}, **data}
    if route == "domestic_abuse":
        for number, answer in enumerate(dash or ["no"] * 24, 1):
            form[f"dash_{number}"] = answer
    return client.post_form(f"/people/{person_id}/refer/{route}", form)


def consenting(client, **data):
    return add_person(client, consent_to_share="yes", consent_recorded_on="2026-11-01", **data)


def latest(engine) -> Referral:
    with unit_of_work(engine) as session:
        return session.exec(select(Referral).order_by(Referral.id.desc())).first()


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_has_a_template_prefilled_from_the_record(worker_client, engine, route):
    person_id = consenting(worker_client, name="Dana Doorstep", phone="07700900555")
    worker_client.post_form("/contacts/new", {"person_id": str(person_id), "contact_type": "face_to_face",
                                              "happened_at": local_time(timedelta(days=1)), "notes": "Low mood, not eating."})
    page = worker_client.get(f"/people/{person_id}/refer/{route}").get_data(as_text=True)
    template = referrals.ROUTE_TEMPLATES[route]
    assert template.label in page and "Name: Dana Doorstep" in page and "Low mood, not eating." in page
    for question in template.questions:
        assert f'name="q_{question.name}"' in page
    missing = refer(worker_client, person_id, route, **{f"q_{template.questions[0].name}": ""})
    assert missing.status_code == 422 and "Answer this" in missing.get_data(as_text=True)
    assert refer(worker_client, person_id, route).status_code == 303
    referral = latest(engine)
    assert referral.route == route and referral.status == "draft" and referral.lawful_basis == "consent"
    assert referral.answers[template.questions[0].name] == ANSWERS[template.questions[0].name]


def test_sharing_without_consent_needs_a_reason(worker_client, engine):
    person_id = add_person(worker_client)  # consent not yet asked
    no_consent = refer(worker_client, person_id, "safeguarding_adults")
    assert no_consent.status_code == 422
    assert "Their record does not show consent to share." in no_consent.get_data(as_text=True)
    no_reason = refer(worker_client, person_id, "safeguarding_adults", lawful_basis="safeguarding")
    assert no_reason.status_code == 422
    assert "Sharing without consent needs a reason" in no_reason.get_data(as_text=True)
    assert latest(engine) is None
    assert refer(worker_client, person_id, "safeguarding_adults", lawful_basis="safeguarding",
                 basis_reason="Financial abuse of an adult with dementia.").status_code == 303
    assert latest(engine).basis_reason == "Financial abuse of an adult with dementia."


@pytest.mark.parametrize("yes, judgement, marac", [(14, False, True), (13, False, False), (13, True, True),
                                                   (24, False, True)])
def test_dash_score_and_the_marac_threshold(worker_client, engine, yes, judgement, marac):
    person_id = consenting(worker_client)
    answers = ["yes"] * yes + ["not_known"] * (24 - yes)
    extra = {"marac_judgement": "y"} if judgement else {}
    response = refer(worker_client, person_id, "domestic_abuse", dash=answers, **extra)
    assert response.status_code == 303
    referral = latest(engine)
    assert (referral.dash_score, referral.marac) == (yes, marac)
    shown = worker_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("refer to MARAC as well" in shown) is marac


def test_an_unanswered_dash_question_is_refused(worker_client, engine):
    person_id = consenting(worker_client)
    form_dash = ["yes"] * 23 + [""]
    response = refer(worker_client, person_id, "domestic_abuse", dash=form_dash)
    assert response.status_code == 422 and "Answer all 24 DASH questions" in response.get_data(as_text=True)


def test_approval_then_email_with_the_pdf_to_a_real_smtp_server(worker_client, supervisor_client, engine, settings,
                                                                 personas):
    with unit_of_work(engine) as session:
        partner = PartnerService(name="Crisis Team North", route="mental_health", secure_email="crisis@nhs.example",
                                 open_days="1234567")
        session.add(partner)
        session.flush()
        partner_id = partner.id
    person_id = consenting(worker_client, name="Dana Doorstep")
    assert refer(worker_client, person_id, "mental_health", partner_id=str(partner_id),
                 ask_approval="y").status_code == 303
    referral = latest(engine)
    assert referral.status == "awaiting_approval"
    too_soon = worker_client.post_form(f"/referrals/{referral.id}/send", page=f"/referrals/{referral.id}")
    assert "A supervisor has to approve it first." in worker_client.get(too_soon.headers["Location"]).get_data(
        as_text=True)
    assert worker_client.post_form(f"/referrals/{referral.id}/approve", page=f"/referrals/{referral.id}")
    assert latest(engine).approved_by_id is None  # a worker cannot approve
    supervisor_client.post_form(f"/referrals/{referral.id}/approve", page=f"/referrals/{referral.id}")
    assert latest(engine).approved_by_id == personas["supervisor"].id
    worker_client.post_form(f"/referrals/{referral.id}/send", page=f"/referrals/{referral.id}")
    assert latest(engine).status == "sent" and latest(engine).follow_up_at is not None

    with smtp_server() as mailbox:
        make_job(settings, smtp_url=mailbox.url)(engine, utcnow())
        [(recipients, email)] = [(r, m) for r, m in mailbox.messages if r == ["crisis@nhs.example"]]
    assert email["Subject"] == f"Referral: Mental-health crisis team (ref. FL-{referral.id})"
    assert "Dana" not in email.get_body(preferencelist=("plain",)).get_content()
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == f"referral-FL-{referral.id}.pdf"
    assert "Status: Sent" in pdf_text(attachment.get_content())
    assert attachment.get_content().startswith(b"%PDF")
    with unit_of_work(engine) as session:
        row = session.exec(select(Delivery).where(Delivery.address == "crisis@nhs.example")).one()
    assert row.status == "sent" and row.attachment is None  # not kept once sent

    pdf = worker_client.get(f"/referrals/{referral.id}/pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "no-store"
    assert "Dana" not in pdf.headers["Content-Disposition"]
    printed = worker_client.get(f"/referrals/{referral.id}/print").get_data(as_text=True)
    assert "Says they will end their life tonight." in printed


def test_the_status_flow_and_the_follow_up_reminder(worker_client, engine, personas):
    person_id = consenting(worker_client)
    refer(worker_client, person_id, "housing")
    referral = latest(engine)
    wrong = worker_client.post_form(f"/referrals/{referral.id}/status",
                                    {"status": "accepted", "note": "Housing officer rang back."},
                                    page=f"/referrals/{referral.id}")
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert 'id="status-error"' in html and "cannot become accepted" in html
    assert "Housing officer rang back." in html  # the note is kept
    assert latest(engine).status == "draft"
    worker_client.post_form(f"/referrals/{referral.id}/send", page=f"/referrals/{referral.id}")
    sent = latest(engine)
    assert sent.status == "sent" and sent.follow_up_at - sent.sent_at == timedelta(days=5)

    job = referrals.FollowUpJob(every=timedelta(0))
    job(engine, sent.follow_up_at - timedelta(minutes=1))
    with unit_of_work(engine) as session:
        assert session.exec(select(Delivery).where(Delivery.kind == "referral")).all() == []
    job(engine, sent.follow_up_at + timedelta(minutes=1))
    with unit_of_work(engine) as session:
        [reminder] = session.exec(select(Delivery).where(Delivery.kind == "referral")).all()
        assert reminder.recipient_id == personas["worker"].id and reminder.title == "No answer yet on a referral"

    for status in ("acknowledged", "accepted", "closed"):
        worker_client.post_form(f"/referrals/{referral.id}/status", {"status": status, "note": f"now {status}"},
                                page=f"/referrals/{referral.id}")
        assert latest(engine).status == status
    assert latest(engine).follow_up_at is None
    with unit_of_work(engine) as session:
        history = [e.status for e in session.exec(select(ReferralEvent).order_by(ReferralEvent.id)).all()]
    assert history == ["draft", "sent", "sent", "acknowledged", "accepted", "closed"]
    timeline = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Housing — homelessness duty to refer" in timeline and "Closed" in timeline


def test_a_draft_offers_its_real_next_steps_and_one_tap_closes_nothing(worker_client, engine):
    person_id = consenting(worker_client)
    refer(worker_client, person_id, "housing")
    referral = latest(engine)
    page = worker_client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert ">Mark as sent</button>" in page
    options = re.findall(r"<option[^>]*>[^<]*</option>", page.split('name="status"', 1)[1].split("</select>")[0])
    assert options == ['<option value="">Choose…</option>',
                       '<option value="closed">Withdraw it: it will not be sent</option>']
    # Sent as the page stands (nothing chosen): the same page, asking for a choice, still a draft.
    tapped = worker_client.post_form(f"/referrals/{referral.id}/status", {"status": "", "note": "Oops"},
                                     page=f"/referrals/{referral.id}")
    assert tapped.status_code == 422 and "Choose what has happened." in tapped.get_data(as_text=True)
    assert latest(engine).status == "draft"


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_the_pdf_says_its_reference_and_status_is_named_by_reference_and_logs_nothing(worker_client, engine,
                                                                                      caplog):
    person_id = consenting(worker_client, name="Dana Doorstep")
    refer(worker_client, person_id, "housing")
    referral = latest(engine)
    caplog.set_level(logging.DEBUG)
    pdf = worker_client.get(f"/referrals/{referral.id}/pdf")
    assert [r for r in caplog.records if r.name.startswith("fontTools")] == []
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="referral-FL-{referral.id}.pdf"'
    text = pdf_text(pdf.data)
    assert f"Reference FL-{referral.id}" in text and "Status: Draft" in text and "page 1 of 1" in text
    page = worker_client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert f"reference FL-{referral.id}" in page
    printed = worker_client.get(f"/referrals/{referral.id}/print").get_data(as_text=True)
    assert f"Reference FL-{referral.id} · Status: Draft." in printed


def test_another_team_cannot_see_or_act_on_a_referral(app, worker_client, other_worker_client, engine, personas):
    from tests.conftest import _signed_in
    other_supervisor_client = _signed_in(app, personas["other_supervisor"])
    person_id = consenting(worker_client)
    refer(worker_client, person_id, "police")
    referral = latest(engine)
    for path in (f"/referrals/{referral.id}", f"/referrals/{referral.id}/pdf", f"/referrals/{referral.id}/print",
                 f"/people/{person_id}/refer", f"/people/{person_id}/refer/police"):
        assert other_worker_client.get(path).status_code == 404, path
    for action in ("send", "approve", "status"):
        assert other_supervisor_client.post_form(f"/referrals/{referral.id}/{action}", {"status": "closed"},
                                                 page="/").status_code == 404
    assert latest(engine).status == "draft"
    with unit_of_work(engine) as session:
        actions = set(session.exec(select(AuditEvent.action)).all())
    assert {"referral.create"} <= actions


def test_admins_keep_the_partner_directory_and_the_form_says_who_is_open(admin_client, worker_client, engine):
    assert worker_client.get("/admin/partners").status_code == 404
    bad = admin_client.post_form("/admin/partners/new", {"name": "Night Shelter", "route": "housing",
                                                         "open_days": "89", "opens_at": "09:00"})
    assert bad.status_code == 422 and "Use the digits 1 (Monday) to 7 (Sunday)" in bad.get_data(as_text=True)
    for name, days in (("Always Open Housing", "1234567"), ("Never Open Housing", "")):
        admin_client.post_form("/admin/partners/new", {"name": name, "route": "housing", "open_days": days or "1",
                                                        "secure_email": "housing@council.example", "active": "y"})
    with unit_of_work(engine) as session:
        never = session.exec(select(PartnerService).where(PartnerService.name == "Never Open Housing")).one()
        today = utcnow().astimezone(worker_client.application.extensions["fieldline.settings"].zone).isoweekday()
        never.open_days = str(today % 7 + 1)  # only tomorrow
    person_id = consenting(worker_client)
    page = worker_client.get(f"/people/{person_id}/refer/housing").get_data(as_text=True)
    assert "Always Open Housing — open now" in page and "Never Open Housing — closed now" in page


def test_a_referrals_history_is_in_the_organisations_time_zone(worker_client, engine):
    from datetime import UTC, datetime

    from app.models.referrals import ReferralEvent
    person_id = consenting(worker_client, name="Dana Doorstep")
    refer(worker_client, person_id, "housing")
    referral = latest(engine)
    with unit_of_work(engine) as session:
        session.add(ReferralEvent(referral_id=referral.id, at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC), status="sent"))
    html = worker_client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "1 Jul 2026 13:00 · Sent" in html  # Europe/London in summer is UTC+1
