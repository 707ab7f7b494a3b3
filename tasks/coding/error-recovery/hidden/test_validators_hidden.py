from app.validators import validate_email, validate_username

def test_valid():
    for good in ("ana@example.com", "x.y+tag@sub.domain.org"):
        assert validate_email(good), good

def test_invalid():
    for bad in ("", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "a@@example.com"):
        assert not validate_email(bad), bad

def test_username_still_works():
    assert validate_username("ana_99") and not validate_username("no spaces")
