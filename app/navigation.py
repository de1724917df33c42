"""The bottom navigation, computed in Python so templates stay free of logic."""
from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from app.web import own_team


@dataclass
class NavLink:
    label: str
    url: str
    current: bool


def _links() -> list[NavLink]:
    if not current_user.is_authenticated:
        return []
    wanted = [("Today", "home.index")]
    if current_user.is_admin:
        wanted += [("Users", "admin.users"), ("Teams", "admin.teams")]
    else:
        # Feature blueprints add their own entries when they are installed.
        wanted += [("Caseload", "caseload.index"), ("Log contact", "contacts.new")]
        if current_user.role == "worker":
            wanted.append(("Start visit", "safety.start"))
    links = []
    for label, endpoint in wanted:
        try:
            url = url_for(endpoint)
        except Exception:  # that feature is not part of this build yet
            continue
        links.append(NavLink(label, url, request.endpoint == endpoint))
    return links


def _menu_links() -> list[NavLink]:
    if not current_user.is_authenticated:
        return []
    wanted = [("Account and sign-in", "account.index"), ("Notifications", "notifications.settings")]
    if current_user.team_id is not None:
        wanted.append(("Safety settings", "safety.settings"))
        wanted.append(("Reminders and calendar", "appointments.calendar_settings"))
        wanted.append(("Groups", "groups.index"))
        wanted.append(("Rota", "console.rota_page"))
    if current_user.is_admin:
        wanted.append(("Partner services", "referrals.partners"))
        wanted.append(("Instrument licences", "measures.licences"))
        wanted.append(("Subject access and retention", "reports.records"))
    if current_user.role == "supervisor":
        wanted.append(("Team appointments", "appointments.team_week"))
        wanted.append(("Team settings", "safety.team_settings"))
        wanted.append(("Allocate", "console.unallocated"))
        wanted.append(("Leave and cover", "console.leave_page"))
        wanted.append(("Team scales", "measures.scales"))
        wanted.append(("Compliance", "orders.team"))
        wanted.append(("Reports to sign off", "reports.index"))
    if current_user.role in ("supervisor", "admin"):
        wanted.append(("Delivery log", "notifications.log"))
    if current_user.role in ("supervisor", "admin") or current_user.team_id is not None:
        wanted.append(("Figures", "console.figures_page"))  # a worker's: their own
    return [NavLink(label, url_for(endpoint), request.endpoint == endpoint) for label, endpoint in wanted]


def register_navigation(app: Flask) -> None:
    @app.context_processor
    def navigation():
        show_crisis = current_user.is_authenticated and current_user.team_id is not None
        # The duty phone goes into the page so the no-signal fallback (an SMS) needs no server.
        duty_phone = own_team().duty_phone if show_crisis else None
        return {"nav_links": _links(), "menu_links": _menu_links(), "show_crisis": show_crisis,
                "crisis_duty_phone": duty_phone}
