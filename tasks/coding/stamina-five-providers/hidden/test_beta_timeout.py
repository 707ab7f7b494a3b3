from providers import beta
from providers.http import CALLS

def test_default_and_explicit_timeout():
    CALLS.clear()
    beta.fetch("/ping")
    beta.fetch("/ping", timeout_s=5)
    assert [c["timeout"] for c in CALLS] == [30, 5]
    assert CALLS[0]["url"] == "https://beta.example.test/ping"
