from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.reports import record, routes, subject_access  # noqa: E402,F401
