import re


def validate_username(name):
    """3 to 20 letters, digits or underscores."""
    return bool(re.fullmatch(r"[A-Za-z0-9_]{3,20}", name))
