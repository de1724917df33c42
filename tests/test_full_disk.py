"""A full disk, for real: the instance folder (SQLite database and photos) on a small tmpfs that is
then filled up. Check-in, Crisis and Log contact say plainly that nothing was saved (503), the page
does not tell the phone to drop the item from its outbox, and the same item sent again once there
is room is saved once."""
import os
import shutil
import sqlite3
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from sqlmodel import func, select

from app import create_app
from app.db import unit_of_work
from app.models import Alert, Contact, Photo, SafetyEvent
from app.services import safety
from tests.helpers import FieldlineClient, local_time
from tests.test_caseload import add_person, jpeg
from tests.test_safety_web import start_visit


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here (needs root): {mounted.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def app(small_disk, migrated_sqlite):
    """Overrides the suite's app: SQLite on the small disk, whatever database the run uses."""
    shutil.copy(migrated_sqlite, small_disk / "fieldline.db")
    application = create_app({"DATABASE_URL": f"sqlite:///{small_disk / 'fieldline.db'}",
                              "FIELDLINE_INSTANCE": small_disk / "instance", "TESTING": True})
    application.test_client_class = FieldlineClient
    yield application
    application.extensions["fieldline.engine"].dispose()


def fill(disk: Path) -> Path:
    """Empty the database's write-ahead log into the file (so the next write needs new space), then
    take every free byte."""
    connection = sqlite3.connect(disk / "fieldline.db")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    ballast = disk / "ballast"
    descriptor = os.open(ballast, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 20, 4096):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(descriptor)
    assert os.statvfs(disk).f_bavail == 0
    return ballast


def not_saved(answer, key: str) -> str:
    html = answer.get_data(as_text=True)
    assert answer.status_code == 503, html
    assert "could not save this" in html and "kept on your phone and will be sent again" in html
    assert key not in html  # the page must not tell the phone this item was answered
    assert answer.headers["Retry-After"]
    return html


def test_a_full_disk_is_a_plain_503_and_the_item_is_saved_once_when_sent_again(app, engine, personas,
                                                                               worker_client, small_disk):
    person_id = add_person(worker_client)
    assert start_visit(worker_client).status_code == 303
    with unit_of_work(engine) as session:
        visit = safety.running_visit(session, personas["worker"].id)
    token = worker_client.csrf_token("/")
    check_in = {"csrf_token": token, "idempotency_key": "check-in-1"}
    contact = {"csrf_token": token, "idempotency_key": "contact-1", "person_id": str(person_id),
               "contact_type": "face_to_face", "happened_at": local_time(), "notes": "Talked about housing."}
    crisis_headers = {"Idempotency-Key": "crisis-1", "X-CSRFToken": token, "Accept": "application/json"}

    uploads = small_disk / "instance" / "uploads"
    uploads.mkdir()  # there since the first photo
    ballast = fill(small_disk)
    html = not_saved(worker_client.post(f"/visits/{visit.id}/check-in", data=check_in), "check-in-1")
    assert "your deadline has not moved" in html and "data-outbox-send" in html
    not_saved(worker_client.post("/contacts/new", data={**contact, "photos": (BytesIO(jpeg()), "door.jpg")},
                                 content_type="multipart/form-data"), "contact-1")
    # Sent by a browser without script (no key to claim): the photo is what finds the disk full.
    no_script = worker_client.post("/contacts/new", data={**contact, "idempotency_key": "",
                                                          "photos": (BytesIO(jpeg()), "door.jpg")},
                                   content_type="multipart/form-data")
    assert no_script.status_code == 503 and "Go back and send it again" in no_script.get_data(as_text=True)
    assert list(uploads.iterdir()) == []  # not even a half-written photo
    crisis = worker_client.post("/crisis/alarm", data={"csrf_token": token}, headers=crisis_headers)
    assert crisis.status_code == 503 and "could not save" in crisis.get_json()["error"]

    ballast.unlink()
    assert worker_client.post(f"/visits/{visit.id}/check-in", data=check_in).status_code == 303
    assert worker_client.post("/contacts/new", data={**contact, "photos": (BytesIO(jpeg()), "door.jpg")},
                              content_type="multipart/form-data").status_code == 303
    assert worker_client.post("/crisis/alarm", data={"csrf_token": token}, headers=crisis_headers).status_code == 201
    with unit_of_work(engine) as session:
        assert session.exec(select(func.count()).select_from(SafetyEvent)
                            .where(SafetyEvent.kind == "checked_in")).one() == 1
        assert session.exec(select(func.count()).select_from(Contact)).one() == 1
        assert session.exec(select(func.count()).select_from(Alert).where(Alert.kind == "panic")).one() == 1
        photo = session.exec(select(Photo)).one()
    assert sorted(p.name for p in uploads.iterdir()) == sorted([photo.stored_as, photo.thumb_stored_as])

