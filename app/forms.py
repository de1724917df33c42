"""Small pieces shared by the feature forms."""


def int_or_none(value):
    """Coerce for a select whose empty choice means "none": "" (or None) -> None, else an int."""
    return int(value) if value not in (None, "", "None") else None
