from flask import Blueprint

bp = Blueprint("groups", __name__)

from app.groups import record, routes, sessions  # noqa: E402,F401
