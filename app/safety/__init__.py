from flask import Blueprint

bp = Blueprint("safety", __name__)

from app.safety import record, routes  # noqa: E402,F401
