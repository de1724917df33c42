"""The rules of Fieldline: plain functions taking (session, ..., now). No Flask request in here."""


class ValidationError(Exception):
    """Input that breaks a rule. `errors` maps a form field (or "" for the whole form) to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k or 'form'}: {v}" for k, v in errors.items()))
        self.errors = errors
