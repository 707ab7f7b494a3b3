from web.errors import HttpError
from web.middleware import attach_session
from web.routes.profile import get_profile


def handle(path, cookies):
    request = attach_session({"path": path}, cookies)
    try:
        if path == "/profile":
            return get_profile(request)
        return {"status": 404, "body": {}}
    except HttpError as error:
        return {"status": error.status, "body": {"error": error.message}}
    except Exception:
        return {"status": 500, "body": {"error": "internal"}}
