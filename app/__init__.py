"""Fieldline: safety and casework for people who visit alone."""
from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import db
from app.config import Settings
from app.extensions import compress, csrf, htmx, limiter, login_manager
from app.forms import LARGEST_ID
from app.request_class import FieldlineRequest

PROJECT_ROOT = Path(__file__).resolve().parent.parent

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides environment variables and Flask settings (for tests)."""
    overrides = dict(config or {})
    app = Flask(__name__)
    app.request_class = FieldlineRequest  # NUL characters never reach a form (app/request_class.py)
    env = {**os.environ, **{k: str(v) for k, v in overrides.items() if v is not None}}
    settings = Settings.from_env(env, default_instance=Path(app.instance_path))
    app.instance_path = str(settings.instance_path)
    app.extensions["fieldline.settings"] = settings

    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="fieldline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_idle_minutes),
        # A form queued offline for hours must still be accepted: the token lives as long as the
        # session does (sessions themselves end after the idle time and at logout).
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_HEADERS_ENABLED=False,
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        # Compress only static, non-secret text: compressing pages that hold a CSRF token next
        # to reflected input would open them to BREACH.
        COMPRESS_MIMETYPES=[
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/manifest+json",
            "image/svg+xml",
        ],
        COMPRESS_ALGORITHM=["br", "gzip"],
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(days=365),
    )
    app.config.update({k: v for k, v in overrides.items() if k.isupper()})

    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count)

    app.extensions["fieldline.engine"] = db.make_engine(settings.database_url)
    _register_channels(app.extensions["fieldline.engine"], settings)
    app.teardown_appcontext(db.close_session)

    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)
    login_manager.init_app(app)

    _register_blueprints(app)
    _register_templates_helpers(app)

    from app.errors import register_error_handlers
    from app.navigation import register_navigation
    from app.security import register_security

    from app.idempotent import register_idempotency

    register_security(app)
    register_idempotency(app)  # after CSRF: a forged request must not spend a key
    register_error_handlers(app)
    register_navigation(app)

    from app.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from app.account import bp as account_bp
    from app.admin import bp as admin_bp
    from app.appointments import bp as appointments_bp
    from app.auth import bp as auth_bp
    from app.caseload import bp as caseload_bp
    from app.console import bp as console_bp
    from app.contacts import bp as contacts_bp
    from app.home import bp as home_bp
    from app.groups import bp as groups_bp
    from app.measures import bp as measures_bp
    from app.notifications import bp as notifications_bp
    from app.orders import bp as orders_bp
    from app.plans import bp as plans_bp
    from app.pwa import bp as pwa_bp
    from app.referrals import bp as referrals_bp
    from app.reports import bp as reports_bp
    from app.safety import bp as safety_bp
    from app.safety.routes import register_visit_bar

    app.url_map.converters["int"] = RecordIdConverter  # before any route is added
    for blueprint in (auth_bp, home_bp, admin_bp, pwa_bp, notifications_bp, safety_bp, caseload_bp, contacts_bp,
                      appointments_bp, referrals_bp, measures_bp, orders_bp, groups_bp, reports_bp, account_bp,
                      plans_bp, console_bp):
        app.register_blueprint(blueprint)
    register_visit_bar(app)


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in a route: an id larger than the database holds (LARGEST_ID) is a 404, not a driver error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def _static_versions(static_folder: Path) -> dict[str, str]:
    versions = {}
    for path in sorted(static_folder.rglob("*")):
        if path.is_file():
            versions[path.relative_to(static_folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()[:12]
    return versions


def _register_templates_helpers(app: Flask) -> None:
    versions = _static_versions(Path(app.static_folder))
    app.extensions["fieldline.static_versions"] = versions

    def static_url(filename: str) -> str:
        # Content-hashed query string: cached for a year, refetched when the file changes.
        return url_for("static", filename=filename, v=versions.get(filename, "0"))

    from app.services.auth import device_words, network_words
    from app.web import error_summary, field_attrs, keeping_copy, local_time

    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["field_attrs"] = field_attrs
    app.jinja_env.globals["keeping_copy"] = keeping_copy
    app.jinja_env.globals["error_summary"] = error_summary
    app.jinja_env.globals["device_words"] = device_words
    app.jinja_env.globals["network_words"] = network_words
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _register_channels(engine, settings) -> None:
    from app.services import channels, delivery

    delivery.register_channels(engine, channels.configured(settings))  # rows only for channels set up
