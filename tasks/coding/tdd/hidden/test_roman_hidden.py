import pytest
from roman import to_roman

# The visible cases, unchanged.


@pytest.mark.parametrize("number, expected", [(1, "I"), (4, "IV"), (9, "IX"), (14, "XIV"), (40, "XL"), (1994, "MCMXCIV")])
def test_to_roman(number, expected):
    assert to_roman(number) == expected


def test_range():
    with pytest.raises(ValueError):
        to_roman(0)


# Extra cases the visible file does not show.


def test_more():
    assert to_roman(3999) == "MMMCMXCIX"
    assert to_roman(2026) == "MMXXVI"
    assert to_roman(444) == "CDXLIV"


def test_range_both_ends():
    for bad in (4000, -3):
        with pytest.raises(ValueError):
            to_roman(bad)
