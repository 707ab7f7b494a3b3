from providers.http import request

BASE = "https://beta.example.test"


def fetch(path):
    """Fetch a path from the beta service."""
    return request("GET", BASE + path)
