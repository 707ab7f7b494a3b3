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


class _Recorder:
    """Wraps a connection or cursor and notes every statement with its parameters."""

    def __init__(self, target, log):
        self._target = target
        self._log = log

    def execute(self, sql, params=()):
        values = tuple(params.values()) if isinstance(params, dict) else tuple(params)
        self._log.append((sql, values))
        result = self._target.execute(sql, params)
        return self if result is self._target else result

    def cursor(self, *args):
        return _Recorder(self._target.cursor(*args), self._log)

    def __getattr__(self, name):
        return getattr(self._target, name)


def test_input_travels_as_parameters():
    marker = "zed'--"
    for function in (find_user, search_users):
        log = []
        function(_Recorder(_db(), log), marker)
        assert log, f"{function.__name__} ran no query through execute()"
        for sql, values in log:
            assert "zed" not in sql, f"{function.__name__} put the input into the SQL text"
        assert any("zed" in str(v) for _, values in log for v in values), function.__name__
