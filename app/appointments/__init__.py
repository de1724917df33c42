from flask import Blueprint

bp = Blueprint("appointments", __name__)

from app.appointments import record, routes  # noqa: E402,F401
