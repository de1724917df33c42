from flask import Blueprint

bp = Blueprint("caseload", __name__)

from app.caseload import record, routes  # noqa: E402,F401
