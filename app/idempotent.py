"""`Idempotency-Key` on every state-changing request (see services/idempotency.py for the rules).

The key comes in the `Idempotency-Key` header (the offline outbox) or an `idempotency_key` form
field (a form the browser submits itself, which cannot set headers). Requests without a key, and
requests from someone not signed in, pass through untouched.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, flash, g, jsonify, make_response, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import event

from app import db
from app.errors import error_page
from app.models.types import utcnow
from app.services import idempotency
from app.web import keeping_copy

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
    flashed_before: int = 0  # messages already waiting in the session: not this answer's own
    committed: bool = False


# What the worker reads (on the page, or in the outbox's list): plain words, never the protocol's.
REFUSALS = {
    400: ("bad-key", "This could not be sent", "Reload the page and send it again."),
    409: ("in-progress", "Still being saved",
          "This is still being saved from your last tap. Wait a moment: it will not be saved twice."),
    422: ("key-reused", "Already saved with other details",
          "This was already saved with different details, so it was not saved again. Check what was "
          "saved; if something is missing, add it as a new entry."),
}


def _error(status: int):
    code, title, message = REFUSALS[status]
    if request.accept_mimetypes.best == "application/json" or request.headers.get(HEADER):
        response = jsonify(error=message, code=code)
        response.status_code = status
    else:
        response = error_page(status, title, message)
    response.headers["Idempotency-Error"] = code
    return response


def _show_again(flashes) -> None:
    """A second tap's request carried the cookie from before the first answer, and its answer's
    cookie replaces the first one's: say what the first answer said (once, if it is still there)."""
    waiting = [list(item) for item in session.get("_flashes", [])]
    for category, message in flashes or ():
        if [category, message] not in waiting:
            flash(message, category)


def _note_answered(key: str) -> None:
    session[ANSWERED] = [*session.get(ANSWERED, [])[-19:], key]


def _replay(record, from_form: bool, key: str):
    if from_form:  # and the next page tells the phone's outbox this item was answered
        _show_again(record.flashes)
        _note_answered(key)
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


def _own_flashes(claim: Claim) -> list:
    """What this answer flashed, kept only for a form's replay (the outbox's sends show none)."""
    if not claim.from_form:
        return []
    return [list(item) for item in session.get("_flashes", [])[claim.flashed_before:]]


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
            return _error(400)
        db_session = db.session()
        _bookkeeping(db_session)
        request_hash = _fingerprint(secret)
        reservation = idempotency.reserve(db_session, current_user.id, key, request_hash, now=utcnow())
        if reservation.outcome == "in_progress" and from_form:
            # A second tap the browser sent itself: show the first one's answer once it has one.
            reservation = idempotency.await_answer(db_session, current_user.id, key, request_hash, clock=utcnow)
        if reservation.outcome == "replay":
            return _replay(reservation.record, from_form, key)
        if reservation.outcome == "mismatch":
            return _error(422)
        if reservation.outcome == "in_progress":
            return _error(409)
        claim = g.idempotency_claim = Claim(current_user.id, key, from_form, len(session.get("_flashes", [])))

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
        db.discard(db_session)  # whatever the view left uncommitted was not meant to happen
        _bookkeeping(db_session)
        if claim.committed:
            location = response.headers.get("Location") or response.headers.get("HX-Redirect")
            body = None if response.direct_passthrough or response.is_streamed else response.get_data()
            idempotency.store_answer(db_session, claim.user_id, claim.key, status_code=response.status_code,
                                     location=location, content_type=response.headers.get("Content-Type"),
                                     body=body, flashes=_own_flashes(claim))
        else:
            idempotency.release(db_session, claim.user_id, claim.key)
        db_session.commit()
        if claim.from_form and response.status_code < 500 and response.status_code not in (401, 403):
            _note_answered(claim.key)
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
        if (request.method == "GET" and not request.headers.get("HX-Request") and not keeping_copy()
                and ANSWERED in session):
            keys += session.pop(ANSWERED)
        return {"outbox_answered": " ".join(keys)}
