"""The person's own copy over real HTTP: a ZIP whose JSON lists every record (checked against the
database), with the photos and PDFs, third-party names flagged and redacted, admins only."""
import io
import json
import secrets
import time
import zipfile

from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, Contact, Person, Photo
from app.services import photos as photo_service
from tests.test_caseload import add_person, jpeg
from tests.test_reports import START, at, seed_record


def test_subject_access_export_lists_every_record_flags_third_parties_and_is_admin_only(
        app, worker_client, supervisor_client, admin_client, engine, personas):
    person_id = add_person(worker_client, name="Dana Doorstep")
    add_person(worker_client, name="Sam Other")
    seed_record(engine, person_id, personas["worker"].id, contacts=200 // 2)  # 100 here, 100 more below
    uploads = photo_service.uploads_folder(app.extensions["fieldline.settings"].instance_path)
    uploads.mkdir(parents=True, exist_ok=True)
    picture = jpeg(64, 64)
    with unit_of_work(engine) as session:
        team_id = session.get(Person, person_id).team_id
        for n in range(100):
            session.add(Contact(team_id=team_id, person_id=person_id, author_id=personas["worker"].id,
                                contact_type="phone", happened_at=at(START),
                                notes="Stays with Sam Other most nights." if n == 0 else "Rang about benefits."))
        session.flush()
        first = session.exec(select(Contact).where(Contact.person_id == person_id)).first()
        for n in range(20):
            name = secrets.token_hex(8)
            (uploads / name).write_bytes(picture)
            session.add(Photo(contact_id=first.id, uploaded_by_id=personas["worker"].id, stored_as=name,
                              thumb_stored_as=name + "t", width=64, height=64, size_bytes=len(picture)))

    url = f"/admin/people/{person_id}/subject-access"
    assert supervisor_client.get(url).status_code == 404  # admins only, whatever the team
    assert supervisor_client.post_form(url, {"recipient": "person"}, page="/").status_code == 404
    page = admin_client.get(url).get_data(as_text=True)
    assert "Review</span> Sam Other in contacts" in page
    assert admin_client.post_form(url, {}).status_code == 422  # who it is for must be said
    began = time.monotonic()
    answer = admin_client.post_form(url, {"recipient": "person", "redact": "Sam Other"})
    assert time.monotonic() - began < 60
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/zip"
    assert "Dana" not in answer.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.data))
    data = json.loads(archive.read("record.json"))
    with unit_of_work(engine) as session:
        contact_ids = {c.id for c in session.exec(select(Contact).where(Contact.person_id == person_id))}
        photo_ids = {p.id for p in session.exec(select(Photo))}
    assert {c["id"] for c in data["contacts"]} == contact_ids and len(contact_ids) == 202
    assert {p["id"] for p in data["photos"]} == photo_ids and len(data["appointment_occurrences"]) == 5
    assert len([n for n in archive.namelist() if n.startswith("photos/")]) == 20
    assert archive.read("summary.pdf").startswith(b"%PDF")
    assert any(c["notes"] == "Stays with [redacted] most nights." for c in data["contacts"])
    assert any(e["action"] == "person.create" for e in data["audit"])
    with unit_of_work(engine) as session:
        exported = session.exec(select(AuditEvent).where(AuditEvent.action == "subject_access.export")).one()
    assert exported.actor_id == personas["admin"].id and "to person; 1 names redacted" in exported.detail
