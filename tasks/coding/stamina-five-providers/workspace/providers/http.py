CALLS = []


def request(method, url, timeout=None):
    """Records the request instead of sending it (this project runs offline)."""
    CALLS.append({"method": method, "url": url, "timeout": timeout})
    return {"status": 200, "url": url}
