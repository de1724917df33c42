"""The request class: what every form and query string is read through.

PostgreSQL refuses a NUL character in text (an error, where SQLite stores it), and no person ever
means one: a form field or query value carrying one would make any page that saves or searches it
fail. So NUL characters are dropped as the values are parsed, once, for every form, link and JSON body
(a device's subscription, a passkey's answer) and the User-Agent a device is registered with."""
from flask import Request
from werkzeug.utils import cached_property
from werkzeug.datastructures import ImmutableMultiDict


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class NulFreeMultiDict(ImmutableMultiDict):
    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        if hasattr(mapping, "items"):
            pairs = mapping.items(multi=True) if hasattr(mapping, "getlist") else mapping.items()
        else:
            pairs = mapping
        super().__init__([(_without_nul(key), _without_nul(value)) for key, value in pairs])


def _json_without_nul(value):
    if isinstance(value, dict):
        return {_without_nul(key): _json_without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_without_nul(item) for item in value]
    return _without_nul(value)


class FieldlineRequest(Request):
    parameter_storage_class = NulFreeMultiDict

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        return _json_without_nul(super().get_json(force=force, silent=silent, cache=cache))

    @cached_property
    def user_agent(self):  # kept with a sign-in and a device
        return self.user_agent_class(_without_nul(self.headers.get("User-Agent", "")))
