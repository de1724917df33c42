from flask import Blueprint

bp = Blueprint("measures", __name__)

from app.measures import record, routes  # noqa: E402,F401
