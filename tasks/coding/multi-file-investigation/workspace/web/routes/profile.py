from web.store import load_profile


def get_profile(request):
    user_id = request["user_id"]
    return {"status": 200, "body": load_profile(user_id)}
