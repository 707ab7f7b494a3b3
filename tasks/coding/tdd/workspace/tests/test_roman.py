import pytest
from roman import to_roman


@pytest.mark.parametrize("number, expected", [(1, "I"), (4, "IV"), (9, "IX"), (14, "XIV"), (40, "XL"), (1994, "MCMXCIV")])
def test_to_roman(number, expected):
    assert to_roman(number) == expected


def test_range():
    with pytest.raises(ValueError):
        to_roman(0)
