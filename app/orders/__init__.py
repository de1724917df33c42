from flask import Blueprint

bp = Blueprint("orders", __name__)

from app.orders import record, routes  # noqa: E402,F401
