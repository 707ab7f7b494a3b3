from providers.http import request

BASE = "https://delta.example.test"


def fetch(path):
    """Fetch a path from the delta service."""
    return request("GET", BASE + path)
