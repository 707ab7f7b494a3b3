from app.validators import validate_email, validate_username


def test_username():
    assert validate_username("ana_99")
    assert not validate_username("a")


def test_email():
    assert validate_email("ana@example.com")
    assert not validate_email("not an email")
