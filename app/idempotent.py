"""`Idempotency-Key` on every state-changing request (see services/idempotency.py for the rules).

The key comes in the `Idempotency-Key` header (the offline outbox) or an `idempotency_key` form
field (a form the browser submits itself, which cannot set headers). Requests without a key, and
requests from someone not signed in, pass through untouched.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, jsonify, make_response, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import event

from app import db
from app.models.types import utcnow
from app.services import idempotency

HEADER = "Idempotency-Key"
FIELD = "idempotency_key"
REPLAYED = "Idempotent-Replayed"
# Keys of items this browser sent itself and the server has now answered, so the page can drop
# them from its outbox (the answer was a page, which script cannot read).
ANSWERED = "outbox_answered"
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class Claim:
    user_id: int
    key: str
    from_form: bool
    committed: bool = False


def _error(status: int, message: str):
    if request.accept_mimetypes.best == "application/json" or request.headers.get(HEADER):
        response = jsonify(error=message)
    else:
        response = make_response(f"<!doctype html><title>Not sent</title><p>{message}</p>")
    response.status_code = status
    response.headers["Idempotency-Error"] = "key-reused" if status == 422 else "in-progress"
    return response


def _replay(record):
    if record.state == "committed":
        # The work is in but its process died before storing the answer: say it is done.
        response = (jsonify(done=True) if request.accept_mimetypes.best == "application/json"
                    else redirect(url_for("home.index"), code=303))
    else:
        response = make_response(record.body or b"", record.status_code)
        if record.content_type:
            response.headers["Content-Type"] = record.content_type
        if record.location:
            response.headers["Location" if record.status_code in REDIRECTS else "HX-Redirect"] = record.location
    response.headers[REPLAYED] = "true"
    return response


def _fingerprint(secret: bytes) -> str:
    files = []
    for name, upload in request.files.items(multi=True):
        content = upload.stream.read()
        upload.stream.seek(0)
        files.append((name, upload.filename or "", content))
    fields = list(request.form.items(multi=True)) if request.form else [("", request.get_data(as_text=True))]
    return idempotency.fingerprint(secret, request.method, request.path, fields, files)


def _bookkeeping(db_session) -> None:
    """The key's own transactions need not wait for the disk: the work's durable commit comes after
    the claim (and flushes it too); a stored answer lost in a power cut leaves the key "committed",
    which is answered as done."""
    db_session.connection(execution_options={db.LIGHT_COMMIT: True})


def register_idempotency(app: Flask) -> None:
    secret = app.secret_key.encode() if isinstance(app.secret_key, str) else app.secret_key

    @app.before_request
    def claim_key():
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return None
        key = request.headers.get(HEADER)
        from_form = key is None
        if from_form and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            key = request.form.get(FIELD) or None
        if key is None or not current_user.is_authenticated:
            return None
        if not idempotency.valid_key(key):
            return _error(400, "The Idempotency-Key must be 1 to 100 printable characters without spaces.")
        db_session = db.session()
        _bookkeeping(db_session)
        reservation = idempotency.reserve(db_session, current_user.id, key, _fingerprint(secret), now=utcnow())
        if reservation.outcome == "replay":
            return _replay(reservation.record)
        if reservation.outcome == "mismatch":
            return _error(422, "This Idempotency-Key was already used for a different request.")
        if reservation.outcome == "in_progress":
            return _error(409, "This request is already being processed. Try again in a moment.")
        claim = g.idempotency_claim = Claim(current_user.id, key, from_form)

        @event.listens_for(db_session, "before_commit")
        def spend_key(committing):
            if g.get("idempotency_claim") is claim and not claim.committed:
                claim.committed = True
                idempotency.mark_committed(committing, claim.user_id, claim.key)

        return None

    @app.after_request
    def keep_answer(response):
        claim = g.pop("idempotency_claim", None)
        if claim is None:
            return response
        db_session = db.session()
        db_session.rollback()  # whatever the view left uncommitted was not meant to happen
        _bookkeeping(db_session)
        if claim.committed:
            location = response.headers.get("Location") or response.headers.get("HX-Redirect")
            body = None if response.direct_passthrough or response.is_streamed else response.get_data()
            idempotency.store_answer(db_session, claim.user_id, claim.key, status_code=response.status_code,
                                     location=location, content_type=response.headers.get("Content-Type"),
                                     body=body)
        else:
            idempotency.release(db_session, claim.user_id, claim.key)
        db_session.commit()
        if claim.from_form and response.status_code < 500 and response.status_code not in (401, 403):
            session[ANSWERED] = [*session.get(ANSWERED, [])[-19:], claim.key]
        return response

    @app.teardown_request
    def release_unanswered(_error=None):
        # An exception that no error page handled: the work did not commit, free the key.
        claim = g.pop("idempotency_claim", None)
        if claim is None or claim.committed:
            return
        db_session = db.session()
        db_session.rollback()
        _bookkeeping(db_session)
        idempotency.release(db_session, claim.user_id, claim.key)
        db_session.commit()

    @app.context_processor
    def answered_keys():
        keys = []
        claim = g.get("idempotency_claim")
        if claim is not None and claim.from_form:
            keys.append(claim.key)  # a page answering the POST itself (a form shown with its errors)
        if request.method == "GET" and not request.headers.get("HX-Request") and ANSWERED in session:
            keys += session.pop(ANSWERED)
        return {"outbox_answered": " ".join(keys)}
