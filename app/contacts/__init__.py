from flask import Blueprint

bp = Blueprint("contacts", __name__)

from app.contacts import record, routes  # noqa: E402,F401
