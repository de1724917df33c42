"""Caseload, people, risk, contacts and photos over real HTTP, with access and audit checked."""
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, Contact, ContactVersion, Delivery, Person, Photo
from app.models.types import utcnow
from app.services import people
from tests.helpers import as_utc, local_time


def add_person(client, **data):
    form = {"name": "Dana Doorstep", "known_as": "Dee", "status": "open", "consent_to_share": "not_asked",
            "risk_level": "medium", "address": "Flat 3, 14 Example Road", "reason": "First assessment", **data}
    response = client.post_form("/people/new", form)
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def log(client, **data):
    form = {"contact_type": "face_to_face", "happened_at": local_time(), "notes": "Talked about housing.", **data}
    return client.post_form("/contacts/new", form, content_type="multipart/form-data")


def jpeg(width=1200, height=800, exif=None) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, "JPEG", exif=exif or Image.Exif())
    return buffer.getvalue()


def gps_exif(orientation=None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    return exif


def audit_actions(engine, actor_id):
    with unit_of_work(engine) as session:
        return session.exec(select(AuditEvent.action).where(AuditEvent.actor_id == actor_id)).all()


def test_person_form_errors_keep_what_was_typed(worker_client):
    response = worker_client.post_form("/people/new", {"name": "", "known_as": "Sparrow", "risk_level": "high",
                                                       "flags": ["other"], "consent_to_share": "yes"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a name." in html and "Say what the other risk is." in html
    assert "Give the date consent was asked." in html
    assert 'value="Sparrow"' in html


def test_caseload_sorts_by_need_filters_and_searches_without_names_in_urls(worker_client, other_worker_client, engine):
    low = add_person(worker_client, name="Lou Low", risk_level="low")
    very = add_person(worker_client, name="Vic Veryhigh", risk_level="very_high", flags=["not_alone", "dog"],
                      reason="Threats last week")
    add_person(other_worker_client, name="Otto Otherteam", risk_level="very_high")
    with unit_of_work(engine) as session:  # Lou has not been seen for 40 days: overdue for contact
        session.get(Person, low).created_at = utcnow() - timedelta(days=40)
    html = worker_client.get("/caseload").get_data(as_text=True)
    assert html.index("Vic Veryhigh") < html.index("Lou Low")
    assert "Risk: Very high" in html and "Do not visit alone" in html and "Aggressive dog" in html
    assert "overdue for contact" in html and "Otto" not in html
    token = worker_client.csrf_token("/caseload")
    found = worker_client.post("/caseload", data={"q": "veryh", "scope": "team", "status": "open", "csrf_token": token},
                               headers={"HX-Request": "true"})
    body = found.get_data(as_text=True)
    assert "Vic Veryhigh" in body and "Lou Low" not in body and "<html" not in body
    other_team = worker_client.post("/caseload", data={"q": "Otto", "csrf_token": token}).get_data(as_text=True)
    assert "Otto Otherteam" not in other_team and "Nobody matches." in other_team
    overdue = worker_client.post("/caseload", data={"overdue": "1", "status": "open", "scope": "team", "csrf_token": token})
    assert "Lou Low" in overdue.get_data(as_text=True) and "Vic Veryhigh" not in overdue.get_data(as_text=True)
    assert very


def test_risk_change_needs_a_reason_and_is_kept_in_history(worker_client, engine, personas):
    person_id = add_person(worker_client)
    missing = worker_client.post_form(f"/people/{person_id}/risk", {"risk_level": "high", "flags": ["weapons"]})
    assert missing.status_code == 422 and "Give the reason for this change" in missing.get_data(as_text=True)
    ok = worker_client.post_form(f"/people/{person_id}/risk", {"risk_level": "high", "flags": ["weapons"],
                                                              "reason": "Said he carries a knife"})
    assert ok.status_code == 303
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Risk changed: High" in page and "(was Medium)" in page and "Said he carries a knife" in page
    assert "Weapons" in page
    with pytest.raises(DatabaseError):
        with engine.begin() as connection:
            connection.execute(text("UPDATE risk_change SET reason = 'edited'"))


def test_log_contact_from_a_persons_page_appears_on_their_timeline(worker_client, engine, personas):
    person_id = add_person(worker_client)
    typed = local_time()
    response = log(worker_client, person_id=str(person_id), needs=["housing", "money"], duration_minutes="20",
                   happened_at=typed)
    assert response.status_code == 303 and response.headers["Location"] == f"/people/{person_id}"
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Talked about housing." in page and "Face to face" in page
    with unit_of_work(engine) as session:
        contact = session.exec(select(Contact)).one()
        person = session.get(Person, person_id)
    # The time typed is local (Europe/London) and stored as UTC.
    assert contact.happened_at == as_utc(typed) and contact.needs == ["housing", "money"]
    assert person.last_contact_at == contact.happened_at


def test_contact_errors_are_shown_next_to_fields_keeping_what_was_typed(worker_client):
    response = log(worker_client, notes="Door answered by a neighbour", contact_type="", happened_at="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the person, or describe a street contact" in html
    assert "Say when it happened" in html
    assert "Door answered by a neighbour" in html


def test_street_contact_is_matched_to_a_person_later(worker_client, engine):
    response = log(worker_client, street_description="Man, 40s, red jacket, Canal St bridge", contact_type="street_outreach",
                   notes="Offered a sleeping bag.")
    assert response.status_code == 303
    contact_id = int(response.headers["Location"].rsplit("/", 1)[1])
    person_id = add_person(worker_client, name="Rory Redjacket")
    not_ours = worker_client.post_form(f"/contacts/{contact_id}/match", {"person_id": "999999"},
                                       page=f"/contacts/{contact_id}")
    assert not_ours.status_code == 422 and "Choose someone on your team" in not_ours.get_data(as_text=True)
    matched = worker_client.post_form(f"/contacts/{contact_id}/match", {"person_id": str(person_id)},
                                      page=f"/contacts/{contact_id}")
    assert matched.status_code == 303
    assert "Offered a sleeping bag." in worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    with unit_of_work(engine) as session:
        [version] = session.exec(select(ContactVersion)).all()
    assert version.snapshot["street_description"] == "Man, 40s, red jacket, Canal St bridge"


def test_photos_lose_gps_and_all_metadata_are_rotated_resized_and_private(worker_client, other_worker_client, app,
                                                                          engine):
    person_id = add_person(worker_client)
    original = jpeg(2400, 1200, gps_exif(orientation=6))  # 6: rotate 90° when shown
    assert Image.open(BytesIO(original)).getexif().get_ifd(0x8825)  # it really has GPS
    response = log(worker_client, person_id=str(person_id), photos=(BytesIO(original), "door.jpg"))
    assert response.status_code == 303
    with unit_of_work(engine) as session:
        photo = session.exec(select(Photo)).one()
    served = worker_client.get(f"/photos/{photo.id}")
    assert served.headers["Cache-Control"] == "no-store" and served.mimetype == "image/jpeg"
    image = Image.open(BytesIO(served.get_data()))
    assert image.size == (800, 1600)  # rotated upright, longest side 1600
    assert len(image.getexif()) == 0 and "icc_profile" not in image.info and "exif" not in image.info
    assert b"PhoneMaker" not in served.get_data()
    thumb = Image.open(BytesIO(worker_client.get(f"/photos/{photo.id}/thumb").get_data()))
    assert max(thumb.size) == 320
    assert other_worker_client.get(f"/photos/{photo.id}").status_code == 404
    # Stored in the instance folder under a random name, not anywhere the static route serves.
    assert (Path(app.instance_path) / "uploads" / photo.stored_as).exists()
    assert not (Path(app.static_folder) / photo.stored_as).exists()
    assert worker_client.get(f"/static/{photo.stored_as}").status_code == 404


@pytest.mark.parametrize("upload, message", [
    (lambda: BytesIO(b"this is not an image at all"), "isn&#39;t a photo Fieldline can use"),
    (lambda: _bomb(), "too large to process (over 40 megapixels)"),
    (lambda: BytesIO(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64), "HEIC photos"),
])
def test_bad_uploads_are_refused_clearly_and_nothing_is_stored(worker_client, engine, app, upload, message):
    person_id = add_person(worker_client)
    response = log(worker_client, person_id=str(person_id), notes="Photo of the letter",
                   photos=(upload(), "letter.jpg"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "Photo of the letter" in html
    with unit_of_work(engine) as session:
        assert session.exec(select(Contact)).all() == [] and session.exec(select(Photo)).all() == []
    uploads = Path(app.instance_path) / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_refused_photo_shows_with_the_forms_other_errors_and_leaves_no_file_behind(worker_client, engine, app):
    """Photos are processed first; a good one stored before a bad one (or before the form turned out
    to be wrong) is removed again."""
    person_id = add_person(worker_client)
    response = log(worker_client, person_id=str(person_id), notes="",
                   photos=[(BytesIO(jpeg()), "door.jpg"), (BytesIO(b"not an image"), "letter.jpg")])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Write a few words about what happened." in html and "isn&#39;t a photo Fieldline can use" in html
    wrong_form = log(worker_client, person_id=str(person_id), notes="", photos=(BytesIO(jpeg()), "door.jpg"))
    assert wrong_form.status_code == 422
    with unit_of_work(engine) as session:
        assert session.exec(select(Contact)).all() == [] and session.exec(select(Photo)).all() == []
    uploads = Path(app.instance_path) / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_photo_sent_for_another_teams_person_is_404_and_not_kept(worker_client, other_worker_client, app):
    person_id = add_person(worker_client)
    assert log(other_worker_client, person_id=str(person_id), photos=(BytesIO(jpeg()), "door.jpg")).status_code == 404
    uploads = Path(app.instance_path) / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def _bomb() -> BytesIO:
    buffer = BytesIO()
    Image.new("1", (7000, 7000)).save(buffer, "PNG")  # 49 megapixels in a few kilobytes
    buffer.seek(0)
    return buffer


def test_another_team_gets_404_everywhere(worker_client, other_worker_client, engine):
    person_id = add_person(worker_client, name="Private Person")
    assert log(worker_client, person_id=str(person_id)).status_code == 303
    with unit_of_work(engine) as session:
        contact_id = session.exec(select(Contact.id)).one()
    for path in (f"/people/{person_id}", f"/people/{person_id}/edit", f"/people/{person_id}/risk",
                 f"/contacts/{contact_id}", f"/contacts/{contact_id}/edit", f"/contacts/new?person={person_id}"):
        assert other_worker_client.get(path).status_code == 404, path
    assert other_worker_client.get(f"/people/{person_id}", headers={"HX-Request": "true"}).status_code == 404
    search = other_worker_client.post_form("/contacts/people", {"q": "Private"}, page="/contacts/new")
    assert "Private Person" not in search.get_data(as_text=True)
    addendum = other_worker_client.post_form(f"/contacts/{contact_id}/addendum", {"text": "x"}, page="/contacts/new")
    assert addendum.status_code == 404
    logged = log(other_worker_client, person_id=str(person_id))
    assert logged.status_code == 404


def test_corrections_for_24_hours_by_the_author_then_addenda_and_supervisor_removal(
        worker_client, app, engine, personas, supervisor_client):
    from tests.conftest import _signed_in

    person_id = add_person(worker_client)
    log(worker_client, person_id=str(person_id), notes="First version")
    with unit_of_work(engine) as session:
        contact_id = session.exec(select(Contact.id)).one()
    corrected = worker_client.post_form(f"/contacts/{contact_id}/edit", {
        "contact_type": "home_visit", "happened_at": local_time(), "notes": "Corrected version"})
    assert corrected.status_code == 303
    page = worker_client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "Corrected version" in page and "Version 1" in page and "First version" in page
    colleague = _signed_in(app, personas["worker2"])
    assert "Correct this contact" not in colleague.get(f"/contacts/{contact_id}").get_data(as_text=True)
    with unit_of_work(engine) as session:
        session.get(Contact, contact_id).created_at = utcnow() - timedelta(hours=25)
    late = worker_client.post_form(f"/contacts/{contact_id}/edit", {
        "contact_type": "phone", "happened_at": local_time(), "notes": "Too late"}, page=f"/contacts/{contact_id}")
    assert late.status_code == 303 and "Too late" not in worker_client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    # Too long: the page again with the error next to the box and every word still in it.
    too_long = "He called back later. " * 250
    refused = worker_client.post_form(f"/contacts/{contact_id}/addendum", {"text": too_long}, page=f"/contacts/{contact_id}")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="text-error"' in html and too_long.strip() in html
    worker_client.post_form(f"/contacts/{contact_id}/addendum", {"text": "He called back later."}, page=f"/contacts/{contact_id}")
    page = worker_client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert page.count("He called back later.") == 1
    assert worker_client.post_form(f"/contacts/{contact_id}/delete", {"reason": "x"}, page=f"/contacts/{contact_id}").status_code == 404
    no_reason = supervisor_client.post_form(f"/contacts/{contact_id}/delete", {"reason": "  "}, page=f"/contacts/{contact_id}")
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.get_data(as_text=True)
    removed = supervisor_client.post_form(f"/contacts/{contact_id}/delete", {"reason": "Logged on the wrong person"},
                                          page=f"/contacts/{contact_id}")
    assert removed.status_code == 303
    assert worker_client.get(f"/contacts/{contact_id}").status_code == 404
    assert "First version" not in worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    with unit_of_work(engine) as session:
        assert session.get(Contact, contact_id).delete_reason == "Logged on the wrong person"  # kept, not erased


def test_a_persons_phone_is_checked_and_one_to_be_texted_needs_a_mobiles_length(worker_client, engine):
    form = {"name": "Pat Phone", "status": "open", "consent_to_share": "not_asked", "risk_level": "low",
            "reason": "First assessment"}
    refused = worker_client.post_form("/people/new", {**form, "phone": "call me maybe"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="phone-error"' in html and 'value="call me maybe"' in html
    texted = worker_client.post_form("/people/new", {**form, "phone": "01134960", "sms_reminders": "y"})
    assert texted.status_code == 422 and "digits for a mobile number" in texted.get_data(as_text=True)
    person_id = add_person(worker_client, name="Pat Phone", phone="0113 496 0000")  # a landline, not texted
    with unit_of_work(engine) as session:  # an old record: texts on to a number stored before checks
        session.get(Person, person_id).phone, session.get(Person, person_id).sms_reminders = "12", True
    edited = worker_client.post_form(f"/people/{person_id}/edit", {
        **form, "phone": "12", "sms_reminders": "y", "before_you_visit": "Ring first"})
    assert edited.status_code == 303, edited.get_data(as_text=True)  # the rest of the edit is not blocked


def test_safeguarding_concern_is_flagged_to_the_supervisor_and_risk_change_opens_the_review(worker_client, engine,
                                                                                             personas):
    person_id = add_person(worker_client)
    response = log(worker_client, person_id=str(person_id), safeguarding_concern="y", risk_changed="y")
    assert response.headers["Location"] == f"/people/{person_id}/risk?then=refer"
    # The risk review first, then on to the referral (a refused review keeps the way on).
    review = response.headers["Location"]
    refused = worker_client.post_form(review, {"risk_level": "very_high"}, page=review)
    assert refused.status_code == 422
    reviewed = worker_client.post_form(review, {"risk_level": "very_high", "reason": "Threats at the door"},
                                       page=review)
    assert reviewed.headers["Location"] == f"/people/{person_id}/refer"
    referral_page = worker_client.get(reviewed.headers["Location"]).get_data(as_text=True)
    assert "Make the safeguarding referral now." in referral_page
    with unit_of_work(engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.recipient_id == personas["supervisor"].id)).all()
    assert rows and rows[0].title == "Safeguarding concern logged"
    assert personas["worker"].name not in rows[0].body
    # Without a risk change, a safeguarding concern leads straight to making the referral.
    again = log(worker_client, person_id=str(person_id), safeguarding_concern="y")
    assert again.headers["Location"] == f"/people/{person_id}/refer"


def test_every_view_and_change_is_audited_and_an_admin_can_read_a_persons_trail(worker_client, admin_client, engine,
                                                                               personas):
    person_id = add_person(worker_client)
    worker_client.get(f"/people/{person_id}")
    worker_client.post_form(f"/people/{person_id}/risk", {"risk_level": "high", "reason": "Escalating"})
    log(worker_client, person_id=str(person_id), photos=(BytesIO(jpeg()), "a.jpg"))
    with unit_of_work(engine) as session:
        contact_id = session.exec(select(Contact.id)).one()
        photo_id = session.exec(select(Photo.id)).one()
    worker_client.get(f"/contacts/{contact_id}")
    worker_client.get(f"/photos/{photo_id}")
    actions = audit_actions(engine, personas["worker"].id)
    for action in ("person.create", "person.view", "person.risk_review", "contact.create", "contact.view", "photo.view"):
        assert action in actions, action
    trail = admin_client.get(f"/admin/people/{person_id}/audit")
    assert trail.status_code == 200
    assert "Viewed a person" in trail.get_data(as_text=True)
    assert "Reviewed a person&#39;s risk" in trail.get_data(as_text=True)
    assert worker_client.get(f"/admin/people/{person_id}/audit").status_code == 404


def test_is_overdue_uses_the_risk_interval():
    person = Person(team_id=1, name="x", risk_level="very_high", created_at=utcnow() - timedelta(days=4))
    assert people.is_overdue_for_contact(person, utcnow())
    person.risk_level = "low"
    assert not people.is_overdue_for_contact(person, utcnow())
