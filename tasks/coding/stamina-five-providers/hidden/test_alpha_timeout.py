from providers import alpha
from providers.http import CALLS

def test_default_and_explicit_timeout():
    CALLS.clear()
    alpha.fetch("/ping")
    alpha.fetch("/ping", timeout_s=5)
    assert [c["timeout"] for c in CALLS] == [30, 5]
    assert CALLS[0]["url"] == "https://alpha.example.test/ping"
