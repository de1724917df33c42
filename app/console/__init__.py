from flask import Blueprint

bp = Blueprint("console", __name__)

from app.console import allocation_routes, figures_routes, leave_routes, record, routes  # noqa: E402,F401
