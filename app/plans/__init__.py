from flask import Blueprint

bp = Blueprint("plans", __name__)

from app.plans import record, routes, team  # noqa: E402,F401
