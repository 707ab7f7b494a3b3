from web.app import handle

def test_anonymous_gets_401():
    assert handle("/profile", {})["status"] == 401

def test_signed_in_gets_profile():
    response = handle("/profile", {"session": "7"})
    assert response == {"status": 200, "body": {"name": "Ana"}}
