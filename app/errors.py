"""Error pages that look like the app; htmx requests get a fragment in the message area."""
from __future__ import annotations

import logging

from flask import Flask, make_response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services.access import NotFound
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
}


def error_page(status: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    context = {"status": status, "title": title or default_title, "message": message or default_message}
    if wants_fragment():
        response = make_response(render_template("errors/_error.html", **context), status)
        # Show the message in the page's message area instead of swapping it into the target.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return make_response(render_template("errors/error.html", **context), status)


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
        return error_page(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("Unhandled error")
        return error_page(500)
