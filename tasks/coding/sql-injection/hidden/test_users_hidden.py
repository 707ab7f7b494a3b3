from db.users import connect, find_user, search_users

def _db():
    c = connect()
    c.executemany("INSERT INTO users (name, email) VALUES (?, ?)", [("ana", "ana@x.test"), ("bob", "bob@x.test"), ("o'neil", "o@x.test")])
    return c

def test_normal_behaviour():
    c = _db()
    assert find_user(c, "ana")[1] == "ana"
    assert [r[1] for r in search_users(c, "o")] == ["bob", "o'neil"]

def test_quotes_are_data():
    assert find_user(_db(), "o'neil")[1] == "o'neil"

def test_injection_finds_nothing():
    c = _db()
    assert find_user(c, "x' OR '1'='1") is None
    assert search_users(c, "%' OR '1'='1") == []
