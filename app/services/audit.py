"""Recording the audit trail. The table refuses updates and deletes (see the migration)."""
from datetime import datetime

from sqlmodel import Session, select

from app.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    now: datetime,
    actor_id: int | None = None,
    record_type: str | None = None,
    record_id: int | str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=now,
        actor_id=actor_id,
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        ip=ip,
        detail=(detail or None) and detail[:500],
    )
    session.add(event)
    return event


# What each recorded action is called on the audit page (the codes are kept for queries).
ACTION_LABELS = {
    "alert.acknowledge": "Acknowledged an alert", "alert.crisis": "Sent a Crisis alarm",
    "alert.resolve": "Resolved an alert", "alert.view": "Viewed an alert",
    "appointment.cancel": "Cancelled an appointment", "appointment.change_one": "Changed one appointment",
    "appointment.create": "Booked an appointment", "appointment.follow_up": "Booked a follow-up",
    "appointment.outcome": "Recorded an appointment's outcome", "appointment.update": "Changed an appointment",
    "appointment.view": "Viewed an appointment", "audit.view": "Viewed an audit trail",
    "calendar.new_link": "Made a new calendar address", "caseload.search": "Searched the caseload",
    "contact.addendum": "Added to a contact", "contact.correct": "Corrected a contact",
    "contact.create": "Logged a contact", "contact.delete": "Deleted a contact",
    "contact.match": "Matched a street contact to a person", "contact.view": "Viewed a contact",
    "login.failure": "Failed sign-in", "login.success": "Signed in", "logout": "Signed out",
    "notification.acknowledge": "Acknowledged a notification",
    "notifications.preferences": "Changed notification settings", "partner.update": "Changed a partner service",
    "person.create": "Added a person", "person.risk_review": "Reviewed a person's risk",
    "person.update": "Changed a person's details", "person.close": "Closed a case", "person.reopen": "Reopened a case", "person.view": "Viewed a person", "photo.view": "Viewed a photo",
    "push.subscribe": "Turned on alerts on a device", "push.unsubscribe": "Turned off alerts on a device",
    "referral.approve": "Approved a referral", "referral.create": "Drafted a referral",
    "referral.pdf": "Downloaded a referral PDF", "referral.print": "Printed a referral",
    "referral.send": "Sent a referral", "referral.status": "Changed a referral's status",
    "referral.view": "Viewed a referral", "safety.settings": "Changed safety settings",
    "team.create": "Created a team", "team.update": "Changed a team", "user.create": "Added a user",
    "user.deactivate": "Deactivated a user", "user.reminders": "Changed reminder settings",
    "user.update": "Changed a user", "visit.check_in": "Checked in", "visit.end_visit": "Ended a visit",
    "visit.extend": "Extended a visit", "visit.start": "Started a visit",
    "visit.unseal": "Opened a visit's sealed notes",
    "licence.record": "Recorded an instrument licence", "login.throttled": "Sign-in refused: too many tries",
    "measure.correct": "Corrected a measure", "measure.decline": "Recorded a declined measure",
    "measure.list": "Viewed a person's measures", "measure.take": "Took a measure", "measure.view": "Viewed a measure",
    "partner.create": "Added a partner service", "push.subscribe_refused": "Refused a device's alerts address",
    "scale.create": "Added a team scale", "scale.retire": "Retired a team scale",
    "user.sessions_end": "Signed a user out everywhere",
    "report.approve": "Approved a report", "report.ask_sign_off": "Asked for a report's sign-off",
    "report.compare": "Compared report versions", "report.create": "Drafted a report",
    "report.pdf": "Downloaded a report PDF", "report.print": "Printed a report",
    "report.return": "Returned a report with comments", "report.revise": "Started a new version of a report",
    "report.save": "Saved a report draft", "report.view": "Viewed a report",
    "report.extracts": "Chose the contacts a report quotes",
    "subject_access.export": "Exported a subject access copy", "subject_access.request": "Recorded a subject access request",
    "subject_access.extend": "Extended a subject access request", "retention.delete": "Retention deleted records",
    "retention.rule": "Changed the retention schedule", "person.legal_hold": "Changed a legal hold",
    "person.erase": "Erased a person's record on request", "subject_access.view": "Viewed what is held about a person",
    "order.create": "Added an order", "order.view": "Viewed an order", "order.requirement": "Added an order's requirement",
    "order.instruction": "Made an appointment enforceable under an order",
    "compliance.board": "Viewed the team's compliance list", "compliance.outcome": "Recorded an enforceable outcome",
    "compliance.evidence": "Recorded evidence for an absence",
    "compliance.evidence_chased": "Chased the evidence for an absence", "compliance.warning": "Gave a warning",
    "compliance.warning_draft": "Drafted a warning letter", "compliance.decision": "Recorded a breach decision",
    "compliance.decision_view": "Viewed a breach decision", "compliance.policy": "Changed the team's enforcement numbers",
    "pack.build": "Built a breach evidence pack", "pack.list": "Listed breach evidence packs",
    "pack.download": "Downloaded a breach evidence pack", "pack.sign": "Signed a breach evidence pack",
    "programme.create": "Added a programme", "programme.plan": "Changed a programme session's plan",
    "programme.material": "Added a programme material", "programme.material.view": "Downloaded a programme material",
    "group.create": "Added a group", "group.view": "Viewed a group", "group.enrol": "Enrolled someone in a group",
    "group.enrol.override": "Enrolled someone despite a non-association", "group.move": "Moved someone to another group",
    "group.finish": "Recorded a group outcome", "group_session.view": "Viewed a group session",
    "group_session.start": "Started a group session", "group_session.register": "Saved a group register",
    "person.keep_apart": "Recorded that two people must be kept apart",
    "rota.shift_add": "Added shifts to the duty rota", "rota.change_add": "Added a one-off change to the duty rota",
    "leave.add": "Recorded leave and cover", "leave.remove": "Removed leave", "person.allocate": "Allocated a person",
    "team.load_update": "Changed the team's load points", "user.capacity": "Changed a worker's capacity",
    "figures.records": "Viewed the records behind a team figure",
    "figures.export": "Downloaded team figures", "rota.shift_remove": "Removed shifts from the duty rota",
    "rota.change_remove": "Removed a one-off change from the duty rota",
    "plan.view": "Viewed a plan", "plan.goal_add": "Added a goal to a plan", "plan.goal_change": "Changed a plan's goal",
    "plan.step_add": "Added a step to a plan", "plan.step_status": "Changed a plan step's status",
    "plan.agreement": "Recorded the person's agreement to a plan", "plan.review": "Reviewed a plan",
    "plan.version_view": "Viewed an earlier version of a plan", "plan.compare": "Compared plan versions",
    "plan.close": "Closed a plan", "plan.summary_pdf": "Downloaded a plan's end-of-intervention PDF",
    "outcomes.view": "Viewed the team's outcome figures", "outcomes.export": "Downloaded the team's outcome figures",
    "outcomes.records": "Viewed the records behind an outcome figure",
    "second_factor.enrol": "Turned on two-factor sign-in", "second_factor.off": "Turned off two-factor sign-in",
    "second_factor.failure": "Entered a wrong sign-in code", "second_factor.throttled": "Sign-in code refused: too many tries",
    "second_factor.remember": "Remembered a phone for 30 days", "second_factor.remembered": "Signed in on a remembered phone",
    "second_factor.new_codes": "Made new recovery codes", "second_factor.forget_devices": "Forgot remembered phones",
    "user.sessions_end_own": "Signed out other devices",
    "user.invite": "Emailed an invitation", "user.reset_link": "Emailed a password reset link",
    "password.reset_request": "Asked for a password reset link", "password.reset": "Reset their password",
    "password.invite_accepted": "Chose a password from an invitation", "password.change": "Changed their password",
    "user.second_factor_reset": "Reset a user's second factor",
    "reauth.success": "Confirmed it was them", "reauth.failure": "Failed to confirm it was them",
    "second_factor.passkey_add": "Added a passkey", "second_factor.passkey_remove": "Removed a passkey",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or action.replace(".", " ").replace("_", " ").capitalize()


def trail(
    session: Session,
    *,
    actor_id: int | None = None,
    record_type: str | None = None,
    record_id: int | str | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if record_type is not None:
        query = query.where(AuditEvent.record_type == record_type)
    if record_id is not None:
        query = query.where(AuditEvent.record_id == str(record_id))
    return list(session.exec(query))
