from providers.http import request

BASE = "https://alpha.example.test"


def fetch(path):
    """Fetch a path from the alpha service."""
    return request("GET", BASE + path)
