from flask import Blueprint

bp = Blueprint("caseload", __name__)

from app.caseload import closure_routes, record, routes  # noqa: E402,F401
