"""The installable-app plumbing: service worker, manifest, offline page, health check."""
import hashlib
import json

from flask import current_app, jsonify, make_response, render_template, url_for
from flask_login import login_required

from app import PROJECT_ROOT, db
from app.extensions import csrf, limiter
from app.models.types import utcnow
from app.pwa import bp
from app.services import channels, health
from app.web import offline_copy

SERVICE_WORKER = PROJECT_ROOT / "service_worker" / "sw.js"
# What the service worker keeps for use with no signal: the shell, never personal pages.
SHELL_FILES = ("css/app.css", "js/app.js", "js/safety.js", "js/outbox.js", "js/offline.js", "js/crisis.js",
               "js/vendor/htmx-2.0.11.min.js",
               "icons/icon-192.png")
# Pages with personal data the phone keeps for no signal (each view is marked with offline_copy).
OFFLINE_PAGES = ("/", "/caseload/offline", "/contacts/new", "/outbox", "/crisis")


def _precache_urls() -> list[str]:
    static_url = current_app.jinja_env.globals["static_url"]
    return [url_for("pwa.offline"), url_for("pwa.saved_offline")] + [static_url(name) for name in SHELL_FILES]


@bp.get("/sw.js")
@limiter.exempt
def service_worker():
    source = SERVICE_WORKER.read_text()
    urls = _precache_urls()
    # The cache name changes whenever a shell file or the worker itself changes.
    version = hashlib.sha256(("\n".join(urls) + source).encode()).hexdigest()[:12]
    body = (source.replace("__FIELDLINE_VERSION__", version)
            .replace("__FIELDLINE_PRECACHE__", json.dumps(urls))
            .replace("__FIELDLINE_OFFLINE_PAGES__", json.dumps(OFFLINE_PAGES))
            .replace("__FIELDLINE_OUTBOX_SCRIPT__", json.dumps(current_app.jinja_env.globals["static_url"]("js/outbox.js"))))
    response = make_response(body)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
@limiter.exempt
def manifest():
    static_url = current_app.jinja_env.globals["static_url"]
    body = {
        "name": "Fieldline",
        "short_name": "Fieldline",
        "description": "Safety and casework for people who visit alone.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b4f6c",
        "icons": [
            {"src": static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": static_url("icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }
    response = make_response(json.dumps(body))
    response.headers["Content-Type"] = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _shell_page(template: str):
    # Holds no personal data, so the service worker may precache it.
    response = make_response(render_template(template))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
@limiter.exempt
def offline():
    return _shell_page("pwa/offline.html")


@bp.get("/offline/saved")
@limiter.exempt
def saved_offline():
    """What the service worker shows when a form could not be sent: it is kept on the phone."""
    return _shell_page("pwa/saved.html")


@bp.get("/outbox")
@login_required
@offline_copy
def outbox():
    """The queue on this phone. The list itself is drawn from the phone's storage by outbox.js."""
    return render_template("pwa/outbox.html")


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    settings = current_app.extensions["fieldline.settings"]
    report, healthy = health.check(db.session(), now=utcnow(), expect_worker=settings.expect_worker,
                                   configured=channels.configured(settings))
    return jsonify(report), (200 if healthy else 503)
