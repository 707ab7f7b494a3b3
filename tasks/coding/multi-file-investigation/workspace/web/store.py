PROFILES = {7: {"name": "Ana"}}


def load_profile(user_id):
    return PROFILES.get(user_id, {})
