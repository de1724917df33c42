"""The request class: what every form and query string is read through.

PostgreSQL refuses a NUL character in text (an error, where SQLite stores it), and no person ever
means one: a form field or query value carrying one would make any page that saves or searches it
fail. So NUL characters are dropped as the values are parsed, once, for every form and link (JSON
bodies are not: the few JSON endpoints take keys and codes, never free text)."""
from flask import Request
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


class FieldlineRequest(Request):
    parameter_storage_class = NulFreeMultiDict
