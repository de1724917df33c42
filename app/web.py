"""Small helpers shared by the routes: fragment-or-page rendering, redirects, the audit hook."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, has_request_context, make_response, redirect, render_template, request
from flask_login import current_user

from app import db
from app.extensions import htmx
from app.models.types import utcnow
from app.services import audit as audit_service


def wants_fragment() -> bool:
    """htmx asked for a piece of a page (not a boosted navigation or a history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page: str, fragment: str | None = None, status: int = 200, **context):
    """The full page, or just its partial when htmx asked for one. The page includes the partial."""
    template = fragment if fragment and wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def see_other(url: str):
    """After a successful POST: 303 for a browser, HX-Redirect for htmx."""
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


OFFLINE_HEADER = "Fieldline-Offline"
# Sent by the service worker when it refreshes its copies in the background (sw.js refreshPages).
COPY_HEADER = "Fieldline-Copy"


def keeping_copy() -> bool:
    """This request is the service worker fetching a copy to keep, not the worker looking: it must
    not take the messages meant for the page they are opening, nor write the session cookie over
    that page's (see security.SessionCookie)."""
    return has_request_context() and request.headers.get(COPY_HEADER) == "1"


def offline_copy(view):
    """Mark a page the service worker may keep for use with no signal (see service_worker/sw.js).
    Only a few pages qualify: the ones a worker needs at the door, holding as little as possible."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        on_a_team = current_user.is_authenticated and current_user.team_id is not None
        if (request.method == "GET" and response.status_code == 200 and on_a_team and not request.args
                and not wants_fragment()):
            response.headers["Cache-Control"] = "private, no-cache"
            response.headers[OFFLINE_HEADER] = "keep"
        return response

    return wrapper


def own_team():
    """The signed-in user's team, loaded once a request: the page, the navigation and the visit bar
    all want it (the session's identity map holds it only while something else does)."""
    if "own_team" not in g:
        from app.models import Team

        g.own_team = db.session().get(Team, current_user.team_id) if current_user.team_id is not None else None
    return g.own_team


def client_ip() -> str | None:
    return request.remote_addr


def audit(action: str, *, record_type: str | None = None, record_id=None, detail: str | None = None,
          actor_id: int | None = None) -> None:
    """Add an audit event for the current request (committed with the request's other work)."""
    if actor_id is None and current_user and current_user.is_authenticated:
        actor_id = current_user.id
    audit_service.record(
        db.session(),
        action,
        now=utcnow(),
        actor_id=actor_id,
        record_type=record_type,
        record_id=record_id,
        ip=client_ip(),
        detail=detail,
    )


def show_errors(form, errors: dict[str, str]) -> None:
    """Put a service's ValidationError messages next to the form's fields ("" or unknown: the top)."""
    for field, message in errors.items():
        if field in form:
            form[field].errors = [*form[field].errors, message]
        else:
            form.form_errors.append(message)


def zone():
    """The organisation's time zone, for showing and reading local times."""
    return current_app.extensions["fieldline.settings"].zone


def local_time(moment, fmt: str = "%a %-d %b %Y, %H:%M:%S %Z") -> str:
    """A stored UTC moment in the organisation's time zone (the template filter local_time)."""
    return moment.astimezone(zone()).strftime(fmt) if moment else ""


def field_attrs(field, hint: str | None = None) -> dict[str, str]:
    """aria attributes linking a control to its error and hint (only the ones that apply; the error
    first, so a screen reader says what to fix before the advice)."""
    attrs = {}
    described_by = []
    if field.errors:
        attrs["aria-invalid"] = "true"
        described_by.append(f"{field.id}-error")
    if hint:
        described_by.append(f"{field.id}-hint")
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return attrs


@dataclass
class Problem:
    target: str  # the id of the control the summary's link moves to
    label: str
    message: str


# Groups drawn one option at a time ({% for choice in field %}): the first option carries the id.
OPTION_GROUPS = {"RadioField", "SelectMultipleField", "CheckboxesField"}


def error_summary(form) -> list[Problem]:
    """Every field with something to fix, in the form's order, for the summary at the top of the
    form (the GOV.UK error summary: each problem a link to its field)."""
    problems = []
    for f in form:
        if f.type == "CSRFTokenField" or not f.errors or not isinstance(f.errors, list | tuple):
            continue
        target = f"{f.id}-0" if f.type in OPTION_GROUPS else f.id
        problems.append(Problem(target, (f.label.text or f.name).rstrip(":"), f.errors[0]))
    return problems
