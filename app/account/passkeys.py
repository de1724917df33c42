"""Adding and removing passkeys and security keys on the account page (JSON for passkeys.js)."""
from flask import current_app, flash, jsonify, request, url_for
from flask_login import current_user

from app import db
from app.account import bp
from app.account.forms import ButtonForm
from app.auth import sign_in
from app.auth.sudo import confirmed_first
from app.models.types import utcnow
from app.services import passkeys
from app.services.access import NotFound
from app.web import audit, see_other


@bp.post("/passkeys/options")
@confirmed_first
def passkey_options():
    options, challenge = passkeys.registration_options(db.session(), current_user, sign_in.webauthn_site())
    sign_in.keep_challenge(challenge)
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/passkeys")
@confirmed_first
def add_passkey():
    body = request.get_json(silent=True) or {}
    challenge = sign_in.take_challenge()
    credential, name = body.get("credential"), body.get("name")
    db_session = db.session()
    key = None
    if challenge and isinstance(credential, dict) and (name is None or isinstance(name, str)):
        key = passkeys.register(db_session, current_user, credential, challenge, sign_in.webauthn_site(),
                                name=name or "", now=utcnow())
    if key is None:
        return jsonify(error="That passkey could not be added. Try again."), 422
    db_session.flush()
    audit("second_factor.passkey_add", record_type="user", record_id=current_user.id, detail=f"passkey={key.id}")
    db_session.commit()
    flash(f"Added {key.name}. Signing in now asks for it (or a code).")
    return jsonify(next=url_for("account.index"))


@bp.post("/passkeys/<int:passkey_id>/remove")
@confirmed_first
def remove_passkey(passkey_id: int):
    if not ButtonForm().validate():
        raise NotFound
    db_session = db.session()
    if not passkeys.remove(db_session, current_user.id, passkey_id):
        raise NotFound
    audit("second_factor.passkey_remove", record_type="user", record_id=current_user.id, detail=f"passkey={passkey_id}")
    db_session.commit()
    flash("Passkey removed.")
    return see_other(url_for("account.index"))
