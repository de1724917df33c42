"""The bottom navigation, computed in Python so templates stay free of logic."""
from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from app.web import own_team


@dataclass
class NavLink:
    label: str
    url: str
    current: bool


def _url(endpoint: str) -> str | None:
    """Every page draws these links: their URLs are built once per app and mount point, not on
    every request (about twenty url_for calls a page, a tenth of a trivial page's time)."""
    urls = current_app.extensions.setdefault("fieldline.navigation_urls", {})
    key = (request.script_root, endpoint)
    if key not in urls:
        try:
            urls[key] = url_for(endpoint)
        except BuildError:  # that feature is not part of this build
            urls[key] = None
    return urls[key]


def _nav(wanted: list[tuple[str, str]]) -> list[NavLink]:
    here = request.endpoint
    return [NavLink(label, url, here == endpoint) for label, endpoint in wanted if (url := _url(endpoint))]


def _links(user) -> list[NavLink]:
    wanted = [("Today", "home.index")]
    if user.is_admin:
        wanted += [("Users", "admin.users"), ("Teams", "admin.teams")]
    else:
        wanted += [("Caseload", "caseload.index"), ("Log contact", "contacts.new")]
        if user.role == "worker":
            wanted.append(("Start visit", "safety.start"))
    return _nav(wanted)


def _menu_links(user) -> list[NavLink]:
    wanted = [("Account and sign-in", "account.index"), ("Notifications", "notifications.settings")]
    if user.team_id is not None:
        wanted.append(("Safety settings", "safety.settings"))
        wanted.append(("Reminders and calendar", "appointments.calendar_settings"))
        wanted.append(("Groups", "groups.index"))
        wanted.append(("Rota", "console.rota_page"))
    if user.is_admin:
        wanted.append(("Partner services", "referrals.partners"))
        wanted.append(("Instrument licences", "measures.licences"))
        wanted.append(("Subject access and retention", "reports.records"))
    if user.role == "supervisor":
        wanted.append(("Team appointments", "appointments.team_week"))
        wanted.append(("Team settings", "safety.team_settings"))
        wanted.append(("Allocate", "console.unallocated"))
        wanted.append(("Leave and cover", "console.leave_page"))
        wanted.append(("Team scales", "measures.scales"))
        wanted.append(("Compliance", "orders.team"))
        wanted.append(("Reports to sign off", "reports.index"))
    if user.role in ("supervisor", "admin"):
        wanted.append(("Delivery log", "notifications.log"))
    if user.role in ("supervisor", "admin") or user.team_id is not None:
        wanted.append(("Figures", "console.figures_page"))  # a worker's: their own
    return _nav(wanted)


def register_navigation(app: Flask) -> None:
    @app.context_processor
    def navigation():
        user = current_user._get_current_object()  # one look through the proxy, not forty
        if not user.is_authenticated:
            return {"nav_links": [], "menu_links": [], "show_crisis": False, "crisis_duty_phone": None}
        show_crisis = user.team_id is not None
        # The duty phone goes into the page so the no-signal fallback (an SMS) needs no server.
        duty_phone = own_team().duty_phone if show_crisis else None
        return {"nav_links": _links(user), "menu_links": _menu_links(user), "show_crisis": show_crisis,
                "crisis_duty_phone": duty_phone}
