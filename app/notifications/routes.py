"""Push subscriptions, notification settings, the test message, and the delivery log."""
from datetime import timedelta

from flask import current_app, flash, jsonify, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from app import db
from app.models.types import utcnow
from app.notifications import bp
from app.notifications.forms import PreferencesForm
from app.services import ValidationError
from app.services import delivery as delivery_service
from app.security import SESSION_TOKEN_KEY
from app.services import auth as auth_service
from app.services import delivery_log, push_subscriptions, vapid
from app.services.access import NotFound
from app.web import audit, render, see_other


def _vapid():
    app = current_app._get_current_object()
    if "fieldline.vapid" not in app.extensions:
        settings = app.extensions["fieldline.settings"]
        app.extensions["fieldline.vapid"] = vapid.load_or_create(settings.vapid_private_key, settings.instance_path)
    return app.extensions["fieldline.vapid"]


@bp.get("/push/vapid-public-key")
def vapid_public_key():
    response = current_app.response_class(vapid.application_server_key(_vapid()), mimetype="text/plain")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/push/subscriptions")
@login_required
def add_subscription():
    db_session = db.session()
    token = session.get(SESSION_TOKEN_KEY)
    try:
        subscription = push_subscriptions.register(
            db_session, current_user, request.get_json(silent=True),
            rule=push_subscriptions.rule_from(current_app.extensions["fieldline.settings"]),
            login_session_id=auth_service.login_session_id(token) if token else None,
            user_agent=request.user_agent.string, now=utcnow(),
        )
    except ValidationError as error:
        return jsonify(errors=error.errors), 422
    except push_subscriptions.EndpointTaken:
        audit("push.subscribe_refused", record_type="user", record_id=current_user.id, detail="endpoint taken")
        db_session.commit()
        return jsonify(errors={"endpoint": push_subscriptions.TAKEN}), 409
    audit("push.subscribe", record_type="push_subscription", record_id=subscription.id)
    db_session.commit()
    return jsonify(id=subscription.id), 201


@bp.post("/push/subscriptions/remove")
@login_required
def remove_subscription():
    data = request.get_json(silent=True) or {}
    db_session = db.session()
    if push_subscriptions.remove(db_session, current_user, str(data.get("endpoint", ""))):
        audit("push.unsubscribe", record_type="user", record_id=current_user.id)
        db_session.commit()
    return "", 204


@bp.get("/session/csrf-token")
@login_required
def csrf_token():
    """For the service worker, which acts on a notification without a page to read the token from.
    Same-origin only (no CORS), so another site cannot read it."""
    return jsonify(token=generate_csrf(), user=current_user.id)


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    db_session = db.session()
    form = PreferencesForm()
    if request.method == "POST" and form.validate():
        delivery_service.set_preferences(db_session, current_user, form.choices())
        audit("notifications.preferences", record_type="user", record_id=current_user.id)
        db_session.commit()
        flash("Your notification choices are saved.")
        return see_other(url_for("notifications.settings"))
    if request.method == "GET":
        form.fill({kind: delivery_service.channels_for(db_session, current_user, kind) for kind in form.KINDS})
    safety_ways, not_set_up = delivery_log.channel_setup(delivery_service.configured_channels(db_session),
                                                             has_phone=bool(current_user.phone))
    return render(
        "notifications/settings.html",
        form=form,
        devices=push_subscriptions.count_for(db_session, current_user),
        has_phone=bool(current_user.phone),
        safety_ways=safety_ways,
        not_set_up=not_set_up,
        status=422 if request.method == "POST" else 200,
    )


@bp.post("/push/test")
@login_required
def send_test():
    db_session = db.session()
    now = utcnow()
    message = delivery_service.Message(
        kind="test",
        event_ref=f"test:{current_user.id}:{int(now.timestamp())}",
        title="Test notification",
        body="Alerts will reach this phone.",
        url=url_for("notifications.settings"),
        topic="test",
    )
    added = delivery_service.enqueue(db_session, message, current_user, now=now)
    # The acknowledge link names the delivery, which only exists once inserted.
    for row in delivery_service.rows_for_event(db_session, message.event_ref):
        row.ack_url = url_for("notifications.acknowledge", delivery_id=row.id)
    db_session.commit()
    if added:
        flash("Test notification sent. It should arrive within a few seconds.")
    else:
        flash("Nothing was sent: this account has no phone registered for alerts yet. Switch on "
              "“This phone gets alerts” first.", "warn")
    return see_other(url_for("notifications.settings"))


@bp.post("/notifications/<int:delivery_id>/acknowledge")
@login_required
def acknowledge(delivery_id: int):
    db_session = db.session()
    row = delivery_service.acknowledge(db_session, delivery_id, current_user, now=utcnow())
    if row is None:
        raise NotFound
    audit("notification.acknowledge", record_type="delivery", record_id=row.id)
    db_session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify(acknowledged=True)
    flash("Acknowledged.")
    return see_other(url_for("notifications.settings"))


@bp.get("/notifications/log")
@login_required
def log():
    if current_user.role not in ("supervisor", "admin"):
        raise NotFound
    db_session = db.session()
    rows = delivery_log.log_for(db_session, current_user)
    failed = delivery_log.failed_count(db_session, current_user, since=utcnow() - timedelta(days=1))
    return render("notifications/log.html", rows=[delivery_log.describe(row, name) for row, name in rows],
                  failed=failed)
