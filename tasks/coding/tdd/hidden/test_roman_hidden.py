import pytest
from roman import to_roman

def test_more():
    assert to_roman(3999) == "MMMCMXCIX"
    assert to_roman(2026) == "MMXXVI"
    assert to_roman(444) == "CDXLIV"

def test_range():
    for bad in (0, 4000, -3):
        with pytest.raises(ValueError):
            to_roman(bad)
