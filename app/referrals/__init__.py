from flask import Blueprint

bp = Blueprint("referrals", __name__)

from app.referrals import record, routes  # noqa: E402,F401
