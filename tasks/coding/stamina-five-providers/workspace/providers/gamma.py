from providers.http import request

BASE = "https://gamma.example.test"


def fetch(path):
    """Fetch a path from the gamma service."""
    return request("GET", BASE + path)
