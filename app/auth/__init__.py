from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import links, routes, second_factor, sudo  # noqa: E402,F401
