"""Error pages that look like the app; htmx requests get a fragment in the message area."""
from __future__ import annotations

import errno
import logging
import sqlite3

from flask import Flask, jsonify, make_response, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from app import db
from app.services.access import NotFound
from app.services.photos import Busy as PhotosBusy
from app.web import wants_fragment

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something in that request was not right", "Go back and try again."),
    403: ("You can't do that", "Your role does not allow this action."),
    404: ("Not found", "There is nothing here, or it is not shared with your team."),
    405: ("Not allowed", "That page does not accept this kind of request."),
    413: ("Too large", "That upload is too large. Photos must be under 20 MB."),
    429: (
        "Too many attempts",
        "Please wait a minute before trying again. If you are locked out and need help now, "
        "call your duty supervisor.",
    ),
    500: ("Something went wrong", "It has been logged. Please try again in a moment."),
    503: ("Not saved", "The server could not save this. It is kept on your phone and will be sent again."),
}

# Storage that is full or held: SQLite's codes, PostgreSQL's SQLSTATEs (53: out of disk, memory or
# connections; 55P03: a lock not available), and the photo folder's errno.
_SQLITE_UNAVAILABLE = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR}
_OS_FULL = {errno.ENOSPC, errno.EDQUOT}


def storage_unavailable(error: BaseException) -> str | None:
    """A short name for why the server could not store anything just now, or None for other errors.
    (Only codes: a database error's text carries the row's values, personal data.)"""
    # The driver's own error: wrapped by SQLAlchemy, or raw when raised while a transaction begins.
    original = error.orig if isinstance(error, DBAPIError) else error
    if (getattr(original, "sqlite_errorcode", None) or 0) & 0xFF in _SQLITE_UNAVAILABLE:  # extended codes too
        return f"sqlite:{original.sqlite_errorname}"
    state = getattr(original, "sqlstate", None) or ""
    if isinstance(state, str) and (state.startswith("53") or state == "55P03"):
        return f"postgresql:{state}"
    if isinstance(error, OSError) and error.errno in _OS_FULL:
        return f"os:{errno.errorcode[error.errno]}"
    return None


def _forget_the_failed_transaction() -> None:
    """The page drawn next reads the database (who is signed in, the visit bar): in a transaction
    that only reads, so on SQLite it needs neither the write lock nor room on the disk."""
    try:
        db_session = db.session()
        db_session.rollback()
        db_session.connection(execution_options={db.READS_FIRST: True})
    except Exception:  # the connection itself failed: the page is drawn without it
        log.warning("could not roll back after a storage failure")


def _form_key() -> str | None:
    try:
        return request.form.get("idempotency_key")
    except Exception:  # the body itself could not be read (a full temporary folder)
        return None


def _not_saved(reason: str):
    """503 for a write the server could not store: the phone keeps the item in its outbox and sends
    it again (a native form's page does not tell the phone it was answered)."""
    _forget_the_failed_transaction()
    sent_by_outbox = bool(request.headers.get("Idempotency-Key") or _form_key())
    if request.method == "GET":
        return error_page(503, "Not available", "The server can't reach its records just now. Try again "
                                                     "in a moment.")
    if reason == "busy":
        message = "The server is busy with other photos right now."
    else:
        message = "The server could not save this."
    message += (" It is kept on your phone and will be sent again." if sent_by_outbox
                else " Go back and send it again in a moment.")
    if request.path.startswith("/visits/"):
        message += " Until it is, the server has not heard from you: your deadline has not moved."
    response = error_page(503, "Not saved", message, retry=sent_by_outbox)
    response.headers["Retry-After"] = "30"
    return response


def error_page(status: int, title: str | None = None, message: str | None = None, retry: bool = False):
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    context = {"status": status, "title": title or default_title, "message": message or default_message,
               "retry": retry}
    if status >= 500:
        context["outbox_answered"] = ""  # the phone keeps what it sent: nothing was stored
    if request.accept_mimetypes.best == "application/json":
        return make_response(jsonify(error=context["message"]), status)
    if wants_fragment():
        response = make_response(render_template("errors/_error.html", **context), status)
        # Show the message in the page's message area instead of swapping it into the target.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return make_response(render_template("errors/error.html", **context), status)


def _page_the_form_was_on(app: Flask) -> str | None:
    """A refused form is drawn again at the address it posts to (/orders/2/requirements). Opened
    later with GET (a restored tab, going back through history) that address has nothing to show:
    a browser is sent to the nearest address above it that has (/orders/2), not a 405."""
    # A browser opening a page asks for text/html by name; fetch() and curl ask for */*.
    asks_for_a_page = any(kind == "text/html" for kind, _ in request.accept_mimetypes)
    if request.method not in ("GET", "HEAD") or wants_fragment() or not asks_for_a_page:
        return None
    adapter = app.url_map.bind("")
    path = request.path.rstrip("/")
    while path:
        path = path.rsplit("/", 1)[0]
        try:
            adapter.match(path or "/", method="GET")
        except HTTPException:
            continue
        return path or "/"
    return None


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_page(
            400,
            "This form has expired",
            "Your sign-in changed since the page was opened. Reload the page and send it again; "
            "what you typed is still on the previous page.",
        )

    @app.errorhandler(NotFound)
    def not_found(_error):
        return error_page(404)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and 300 <= error.code < 400:
            return error
        if error.code == 405 and (found := _page_the_form_was_on(app)):
            return redirect(found, 303)
        return error_page(error.code or 500)

    @app.errorhandler(PhotosBusy)
    def photos_busy(_error):
        return _not_saved("busy")

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        reason = storage_unavailable(error)
        if reason is not None:
            log.warning("could not save %s %s: storage unavailable (%s)", request.method, request.path, reason)
            return _not_saved(reason)
        log.exception("Unhandled error")
        return error_page(500)
