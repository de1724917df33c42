"""Gunicorn's access log (Procfile: --logger-class) without the secret in a calendar feed's address.

The feed address is the password to a worker's appointments; anyone who can read the server's
logs must not be able to subscribe to them.
"""
import re

from gunicorn.glogging import Logger

_FEED_SECRET = re.compile(r"/calendar/[^/?#\s]+\.ics")
REDACTED = "/calendar/[secret].ics"


def redact(text: str) -> str:
    return _FEED_SECRET.sub(REDACTED, text)


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        # Every text atom: the request line and path, but also the Referer, in its own atom and
        # among the request headers.
        return {name: redact(value) if isinstance(value, str) else value
                for name, value in super().atoms(resp, req, environ, request_time).items()}
