from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.reports import extracts, record, records_admin, routes  # noqa: E402,F401
