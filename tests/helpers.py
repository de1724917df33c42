"""Helpers shared by the tests: signing in and sending forms the way a browser does."""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

PASSWORD = "correct horse battery staple"
_CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


@dataclass
class Persona:
    id: int
    email: str
    name: str
    role: str
    team_id: int | None
    password: str = PASSWORD


def csrf_from(html: str) -> str:
    match = _CSRF_INPUT.search(html) or _CSRF_HEADER.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class FieldlineClient(FlaskClient):
    """A test client that can send forms with the CSRF token a browser would have."""

    def csrf_token(self, page: str = "/") -> str:
        response = self.get(page)
        return csrf_from(response.get_data(as_text=True))

    def post_form(self, url: str, data: dict | None = None, page: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(page or url))
        return self.post(url, data=data, **kwargs)

    def login(self, email: str, password: str = PASSWORD):
        token = self.csrf_token("/login")
        return self.post("/login", data={"email": email, "password": password, "csrf_token": token})


LONDON = ZoneInfo("Europe/London")  # the app's default zone
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def local_time(ago: timedelta = timedelta(hours=1)) -> str:
    """A moment `ago` as a datetime-local field sends it, in the app's zone (tests must not go stale)."""
    return (datetime.now(timezone.utc) - ago).astimezone(LONDON).strftime(LOCAL_FORMAT)


def as_utc(local: str) -> datetime:
    """What the server stores for a local_time() value."""
    return datetime.strptime(local, LOCAL_FORMAT).replace(tzinfo=LONDON).astimezone(timezone.utc)
