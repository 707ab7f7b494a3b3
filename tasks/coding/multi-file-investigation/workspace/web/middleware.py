def attach_session(request, cookies):
    """Copies the signed-in user into the request; anonymous visitors get no user_id."""
    if "session" in cookies:
        request["user_id"] = int(cookies["session"])
    return request
