from providers.http import request

BASE = "https://epsilon.example.test"


def fetch(path):
    """Fetch a path from the epsilon service."""
    return request("GET", BASE + path)
