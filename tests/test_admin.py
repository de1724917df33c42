import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, Team, User
from app.services.access import NotFound, get_team, get_user


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/teams", "/admin/teams/1",
                                  "/admin/users/1", "/admin/users/1/audit"])
def test_workers_and_supervisors_cannot_reach_admin_pages(worker_client, supervisor_client, path):
    assert worker_client.get(path).status_code == 404
    assert supervisor_client.get(path).status_code == 404


def test_admin_creates_a_user_without_ever_knowing_their_password(admin_client, client, engine, personas):
    page = "/admin/users/new"
    assert 'type="password"' not in admin_client.get(page).get_data(as_text=True)
    response = admin_client.post_form(page, {
        "name": "Nia New", "email": "Nia@A.example", "role": "worker", "team_id": str(personas["worker"].team_id),
        "phone": "07700900555", "password": "a long enough password",  # not a field: ignored
    })
    assert response.status_code == 303
    # The tests' mail server is a closed port: the admin is told, and can send it again.
    assert "Could not email an invitation" in admin_client.get("/admin/users").get_data(as_text=True)
    assert client.login("nia@a.example", "a long enough password").status_code == 401
    with unit_of_work(engine) as session:
        created = session.exec(select(User).where(User.email == "nia@a.example")).one()
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
    assert audit.record_id == str(created.id) and audit.actor_id == personas["admin"].id


def test_user_form_errors_are_shown_next_to_fields_keeping_what_was_typed(admin_client, personas):
    response = admin_client.post_form("/admin/users/new", {
        "name": "Typed Name", "email": personas["worker"].email, "role": "worker", "team_id": "",
        "password": "short",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Someone already uses this email address." in html
    assert "Workers and supervisors belong to a team" in html
    assert 'value="Typed Name"' in html
    assert 'aria-invalid="true"' in html


def test_phone_numbers_that_get_alarm_texts_are_checked_and_an_old_odd_one_never_blocks_deactivating(
        admin_client, client, engine, personas):
    refused = admin_client.post_form("/admin/users/new", {
        "name": "Typed Name", "email": "typed@a.example", "role": "worker", "team_id": str(personas["worker"].team_id),
        "phone": "call me maybe"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="phone-error"' in html and "Enter a phone number, like 07700" in html
    assert 'value="call me maybe"' in html
    team = admin_client.post_form("/admin/teams/new", {
        "name": "Northside", "duty_phone": "07700 9001", "grace_seconds": "120", "escalation_seconds": "180",
        "min_visit_minutes": "5", "max_visit_minutes": "120"})
    assert team.status_code == 422 and "too few or too many digits for a mobile number" in team.get_data(as_text=True)
    worker = personas["worker"]
    with unit_of_work(engine) as session:  # stored before numbers were checked
        session.get(User, worker.id).phone = "12"
        session.get(Team, worker.team_id).duty_phone = "07700 900123 (duty)"
    kept = admin_client.post_form(f"/admin/teams/{worker.team_id}", {  # the team's settings still save
        "name": "Team A", "duty_phone": "07700 900123 (duty)", "grace_seconds": "90", "escalation_seconds": "180",
        "min_visit_minutes": "5", "max_visit_minutes": "240"})
    assert kept.status_code == 303, kept.get_data(as_text=True)
    deactivated = admin_client.post_form(f"/admin/users/{worker.id}", {
        "name": worker.name, "email": worker.email, "role": "worker", "team_id": str(worker.team_id), "phone": "12"})
    assert deactivated.status_code == 303 and client.login(worker.email).status_code == 401


def test_add_user_starts_from_choices_that_work(admin_client, engine, personas):
    # Two teams: the form asks which (never "No team", which a worker cannot be), "No team" last.
    html = admin_client.get("/admin/users/new").get_data(as_text=True)
    teams = html.split('name="team_id"', 1)[1].split("</select>")[0]
    assert re.findall(r"<option[^>]*>([^<]*)</option>", teams) == ["Choose a team", "Team A", "Team B",
                                                                   "No team (admins only)"]
    assert '<option selected value="">Choose a team</option>' in teams
    refused = admin_client.post_form("/admin/users/new", {
        "name": "Nia New", "email": "nia@", "role": "worker", "team_id": str(personas["worker"].team_id),
        }).get_data(as_text=True)
    assert re.search(rf'<option selected value="{personas["worker"].team_id}">', refused)
    # One team: a new user starts in it, so the form as it stands can be sent.
    with unit_of_work(engine) as session:
        for user in session.exec(select(User).where(User.team_id == personas["other_worker"].team_id)).all():
            user.team_id = personas["worker"].team_id
        session.flush()
        session.delete(session.get(Team, personas["other_worker"].team_id))
    html = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert f'<option selected value="{personas["worker"].team_id}">Team A</option>' in html
    assert '<option selected value="worker">Worker</option>' in html
    created = admin_client.post_form("/admin/users/new", {
        "name": "Nia New", "email": "nia@a.example", "role": "worker", "team_id": str(personas["worker"].team_id)})
    assert created.status_code == 303


def test_an_admin_offers_a_reset_link_not_a_new_password(admin_client, worker_client, client, personas):
    worker = personas["worker"]
    page = admin_client.get(f"/admin/users/{worker.id}").get_data(as_text=True)
    assert 'type="password"' not in page and "Email a password reset link" in page
    response = admin_client.post_form(f"/admin/users/{worker.id}", {
        "name": worker.name, "email": worker.email, "role": "worker", "team_id": str(worker.team_id),
        "phone": "07700900111", "active": "y", "new_password": "another long password",
    })
    assert response.status_code == 303
    assert client.login(worker.email).status_code == 303  # the password is theirs alone


def test_admin_deactivates_a_user_records_stay_and_sign_in_stops(admin_client, client, engine, personas):
    worker = personas["worker"]
    response = admin_client.post_form(f"/admin/users/{worker.id}", {
        "name": worker.name, "email": worker.email, "role": "worker", "team_id": str(worker.team_id),
        "phone": "07700900111",  # active left unticked
    })
    assert response.status_code == 303
    assert client.login(worker.email).status_code == 401
    with unit_of_work(engine) as session:
        assert session.get(User, worker.id) is not None
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.record_id == str(worker.id))).all()
    assert "user.deactivate" in actions


def test_admin_cannot_lock_themself_out(admin_client, personas):
    admin = personas["admin"]
    response = admin_client.post_form(f"/admin/users/{admin.id}", {
        "name": admin.name, "email": admin.email, "role": "admin", "team_id": "",
    })
    assert response.status_code == 422
    assert "You can&#39;t deactivate yourself" in response.get_data(as_text=True)


def test_admin_creates_and_edits_a_team(admin_client, engine):
    response = admin_client.post_form("/admin/teams/new", {
        "name": "Eastside", "duty_phone": "07700900999", "grace_seconds": "120",
        "escalation_seconds": "180", "min_visit_minutes": "5", "max_visit_minutes": "120",
    })
    assert response.status_code == 303
    with unit_of_work(engine) as session:
        team = session.exec(select(Team).where(Team.name == "Eastside")).one()
    duplicate = admin_client.post_form("/admin/teams/new", {
        "name": "eastside", "grace_seconds": "120", "escalation_seconds": "180",
        "min_visit_minutes": "5", "max_visit_minutes": "120",
    })
    assert duplicate.status_code == 422
    assert "Another team already has this name." in duplicate.get_data(as_text=True)
    bad = admin_client.post_form(f"/admin/teams/{team.id}", {
        "name": "Eastside", "grace_seconds": "5", "escalation_seconds": "180",
        "min_visit_minutes": "5", "max_visit_minutes": "120",
    })
    assert bad.status_code == 422
    assert "Between 30 and 3600 seconds." in bad.get_data(as_text=True)


def test_admin_sees_a_users_audit_trail(admin_client, worker_client, personas):
    page = admin_client.get(f"/admin/users/{personas['worker'].id}/audit")
    assert page.status_code == 200
    assert "Signed in" in page.get_data(as_text=True) and "login.success" not in page.get_data(as_text=True)


def test_every_audited_action_has_words_on_the_audit_page():
    import re
    from pathlib import Path

    from app.services.audit import ACTION_LABELS
    source = "\n".join(p.read_text() for p in Path("app").rglob("*.py"))
    used = set(re.findall(r'(?:audit|record)\((?:session, )?"([a-z_.]+)"', source))
    # Actions named by a variable: the user form's two, the contact actions, the visit buttons.
    used |= set(re.findall(r'"((?:user|contact)\.[a-z_]+)"', source)) - {"contact.id", "user.id"}
    used |= {f"visit.{name}" for name in ("check_in", "extend", "end_visit")}
    assert {"login.success", "visit.start", "user.deactivate", "contact.delete"} <= used
    assert sorted(used - set(ACTION_LABELS)) == []


def test_access_rules_hide_other_teams(engine, personas):
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        with pytest.raises(NotFound):
            get_user(session, worker, personas["other_worker"].id)
        with pytest.raises(NotFound):
            get_team(session, worker, personas["other_worker"].team_id)
        assert get_user(session, worker, personas["worker2"].id).id == personas["worker2"].id


def test_audit_log_is_append_only_in_the_database(engine, client, personas):
    client.login(personas["worker"].email)
    for statement in ("UPDATE audit_event SET action = 'tampered'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError):
            with engine.begin() as connection:
                connection.execute(text(statement))
    with unit_of_work(engine) as session:
        assert session.exec(select(AuditEvent.action)).all() == ["login.success"]
